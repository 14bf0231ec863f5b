package io.github.batchnorm4j.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.GZIPInputStream;

/**
 * The UCI optical-recognition handwritten digits (Alpaydin and Kaynak, 1998), as shipped by
 * scikit-learn: 1797 images of 8x8 pixels in 0..16, each with its digit. Bundled in the jar.
 * Pixels are scaled to [0, 1]; a seeded shuffle splits off a held-out test set.
 */
final class DigitsData {
    static final int FEATURES = 64;
    static final int CLASSES = 10;
    private static final String RESOURCE = "digits.csv.gz";

    final float[] trainX;
    final int[] trainY;
    final float[] testX;
    final int[] testY;

    private DigitsData(float[] trainX, int[] trainY, float[] testX, int[] testY) {
        this.trainX = trainX;
        this.trainY = trainY;
        this.testX = testX;
        this.testY = testY;
    }

    int trainCount() {
        return trainY.length;
    }

    int testCount() {
        return testY.length;
    }

    /** All 1797 examples, split by a shuffle from {@code seed}: {@code testFraction} held out. */
    static DigitsData load(long seed, double testFraction) {
        float[][] images = new float[1797][];
        int[] labels = new int[1797];
        int count = 0;
        try (InputStream raw = DigitsData.class.getResourceAsStream(RESOURCE)) {
            if (raw == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the jar");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw),
                    StandardCharsets.US_ASCII));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                String[] fields = line.split(",");
                if (fields.length != FEATURES + 1) {
                    throw new IllegalStateException(RESOURCE + " line " + (count + 1) + " has " + fields.length
                            + " fields, expected " + (FEATURES + 1));
                }
                float[] image = new float[FEATURES];
                for (int i = 0; i < FEATURES; i++) {
                    image[i] = Float.parseFloat(fields[i]) / 16f;
                }
                images[count] = image;
                labels[count] = (int) Float.parseFloat(fields[FEATURES]);
                count++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int[] order = permutation(count, new Random(seed));
        int testCount = (int) Math.round(count * testFraction);
        int trainCount = count - testCount;
        float[] trainX = new float[trainCount * FEATURES], testX = new float[testCount * FEATURES];
        int[] trainY = new int[trainCount], testY = new int[testCount];
        for (int i = 0; i < count; i++) {
            int source = order[i];
            if (i < trainCount) {
                System.arraycopy(images[source], 0, trainX, i * FEATURES, FEATURES);
                trainY[i] = labels[source];
            } else {
                System.arraycopy(images[source], 0, testX, (i - trainCount) * FEATURES, FEATURES);
                testY[i - trainCount] = labels[source];
            }
        }
        return new DigitsData(trainX, trainY, testX, testY);
    }

    /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
    static int[] permutation(int n, Random random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}

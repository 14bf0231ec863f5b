package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inference keeps its per-channel coefficients between calls until gamma, beta or the running
 * statistics change. After every kind of change, a layer that has already run inference must give
 * bitwise the output of a fresh layer holding the same parameters.
 */
class InferenceCoefficientsTest {
    private static final Shape[] SHAPES = {Shape.nc(1, 37), Shape.nchw(2, 37, 3, 5), Shape.nhwc(2, 3, 5, 37)};
    private final Random random = new Random(11);

    @TempDir
    Path directory;

    @Test
    void everyParameterChangeReachesTheNextInference() throws Exception {
        for (Shape shape : SHAPES) {
            Shape train = shape.valuesPerChannel() > 1 ? shape : Shape.nc(4, 37); // training needs m > 1
            try (BatchNorm layer = BatchNorm.builder(37).build()) {
                Path saved = directory.resolve("other.npz");
                try (BatchNorm other = BatchNorm.builder(37).build()) {
                    float[] x = TestData.activations(random, train, 5);
                    other.forwardTraining(train, x, new float[x.length]);
                    other.setGamma(TestData.gaussian(random, 37));
                    other.save(saved);
                }
                checkAfter(layer, shape, l -> { });
                checkAfter(layer, shape, l -> l.setGamma(TestData.gaussian(random, 37)));
                checkAfter(layer, shape, l -> l.setBeta(TestData.gaussian(random, 37)));
                checkAfter(layer, shape, l -> l.setRunningMean(TestData.gaussian(random, 37)));
                checkAfter(layer, shape, l -> l.setRunningVar(positive(37)));
                checkAfter(layer, shape, l -> {
                    float[] x = TestData.activations(random, train, 3);
                    l.forwardTraining(train, x, new float[x.length]);
                });
                checkAfter(layer, shape, l -> {
                    float[] x = TestData.activations(random, train, 3);
                    l.forwardTraining(train, x, new float[x.length]);
                    l.backward(train, x, TestData.gaussian(random, x.length), new float[x.length]);
                });
                checkAfter(layer, shape, l -> {
                    try {
                        l.load(saved);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
            }
            Files.deleteIfExists(directory.resolve("other.npz"));
        }
    }

    /** Runs inference, applies {@code change}, runs inference again and compares with a fresh layer. */
    private void checkAfter(BatchNorm layer, Shape shape, Consumer<BatchNorm> change) {
        float[] x = TestData.activations(random, shape, 2);
        layer.forwardInference(shape, x, new float[x.length]);
        change.accept(layer);
        float[] y = new float[x.length];
        layer.forwardInference(shape, x, y);
        try (BatchNorm fresh = BatchNorm.builder(37).build()) {
            fresh.setGamma(layer.gamma());
            fresh.setBeta(layer.beta());
            fresh.setRunningMean(layer.runningMean());
            fresh.setRunningVar(layer.runningVar());
            float[] expected = new float[x.length];
            fresh.forwardInference(shape, x, expected);
            assertArrayEquals(expected, y, "inference after a parameter change on " + shape);
            assertArrayEquals(fresh.savedInvStd(), layer.savedInvStd(), "saved 1/std after a change on " + shape);
        }
    }

    private float[] positive(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.1f + random.nextFloat() * 4;
        }
        return v;
    }
}

package io.github.batchnorm4j.demo;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.Shape;
import java.util.Random;

/**
 * The mission in one run: train a batch-norm layer on a stream of mini-batches drawn from a known
 * population, then normalize test examples one at a time with the running averages, and compare
 * with what each example's own batch statistics would give. Run by scripts/demo.
 */
public final class RunningStatisticsDemo {
    private static final int CHANNELS = 4;
    private static final double[] POPULATION_MEAN = {0.0, 5.0, -120.0, 1e4};
    private static final double[] POPULATION_STD = {1.0, 0.1, 30.0, 2.0};

    private RunningStatisticsDemo() {
    }

    public static void main(String[] args) {
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 42;
        Random random = new Random(seed);
        int batchSize = 32;
        int steps = 300;
        Shape batch = Shape.nc(batchSize, CHANNELS);
        float[] x = new float[batchSize * CHANNELS];
        float[] y = new float[x.length];
        try (BatchNorm layer = BatchNorm.builder(CHANNELS).momentum(0.1).build()) {
            long start = System.nanoTime();
            for (int step = 0; step < steps; step++) {
                draw(random, x);
                layer.forwardTraining(batch, x, y);
            }
            double micros = (System.nanoTime() - start) / 1e3 / steps;
            System.out.printf("Trained %d mini-batches of %d on the %s backend (%.1f us per step).%n%n", steps,
                    batchSize, layer.backendName(), micros);

            float[] runningMean = layer.runningMean();
            float[] runningVar = layer.runningVar();
            System.out.println("channel  population mean  running mean  population std  running std");
            for (int c = 0; c < CHANNELS; c++) {
                System.out.printf("%7d  %15.4f  %12.4f  %14.4f  %11.4f%n", c, POPULATION_MEAN[c], runningMean[c],
                        POPULATION_STD[c], Math.sqrt(runningVar[c]));
            }

            // Test time: one example at a time.
            int examples = 1000;
            double errorRunning = 0;
            Shape single = Shape.nc(1, CHANNELS);
            float[] z = new float[CHANNELS];
            float[] out = new float[CHANNELS];
            for (int e = 0; e < examples; e++) {
                draw(random, z);
                layer.forwardInference(single, z, out);
                for (int c = 0; c < CHANNELS; c++) {
                    double ideal = (z[c] - POPULATION_MEAN[c]) / POPULATION_STD[c];
                    errorRunning += Math.abs(out[c] - ideal);
                }
            }
            String ownStatistics;
            try {
                layer.forwardTraining(single, z, out);
                ownStatistics = "normalized (unexpected)";
            } catch (IllegalArgumentException refused) {
                ownStatistics = refused.getMessage();
            }
            System.out.printf("%nNormalizing %d single test examples:%n", examples);
            System.out.printf("  with the running averages: mean |y - (z - mu)/sigma| = %.4f%n",
                    errorRunning / (examples * CHANNELS));
            System.out.printf("  with each example's own batch statistics: mean 0 and variance 0, so y = beta "
                    + "for every input;%n  training mode refuses it: \"%s\"%n", ownStatistics);
        }
    }

    private static void draw(Random random, float[] values) {
        for (int i = 0; i < values.length; i++) {
            int c = i % CHANNELS;
            values[i] = (float) (POPULATION_MEAN[c] + POPULATION_STD[c] * random.nextGaussian());
        }
    }
}

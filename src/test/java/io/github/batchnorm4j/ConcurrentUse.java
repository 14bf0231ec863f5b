package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.github.batchnorm4j.internal.BatchNormBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/** Several layers driven from several threads at once, compared bit for bit with sequential use. */
final class ConcurrentUse {
    private ConcurrentUse() {
    }

    /**
     * Trains {@code threads x layersPerThread} layers (each from {@code backends}, on its own input)
     * for {@code steps} steps, first one after another, then with each thread driving its layers;
     * asserts the outputs and running statistics are the same bits.
     */
    static void assertSameAsSequential(Shape shape, int threads, int layersPerThread, int steps,
            Supplier<BatchNormBackend> backends) throws Exception {
        float[][] inputs = new float[threads * layersPerThread][];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = TestData.activations(new java.util.Random(i), shape, i * 10);
        }
        float[][] sequential = new float[inputs.length][];
        for (int i = 0; i < inputs.length; i++) {
            sequential[i] = train(shape, inputs[i], steps, backends.get());
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<float[][]>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t * layersPerThread;
                results.add(pool.submit(() -> {
                    float[][] out = new float[layersPerThread][];
                    for (int l = 0; l < layersPerThread; l++) {
                        out[l] = train(shape, inputs[first + l], steps, backends.get());
                    }
                    return out;
                }));
            }
            for (int t = 0; t < threads; t++) {
                float[][] out = results.get(t).get();
                for (int l = 0; l < layersPerThread; l++) {
                    assertArrayEquals(sequential[t * layersPerThread + l], out[l], "thread " + t + " layer " + l);
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    /** y of the last step, then the running mean and variance, after {@code steps} training steps. */
    private static float[] train(Shape shape, float[] x, int steps, BatchNormBackend backend) {
        try (BatchNorm layer = BatchNorm.builder(shape.channels()).build(backend)) {
            float[] y = new float[x.length];
            for (int s = 0; s < steps; s++) {
                layer.forwardTraining(shape, x, y);
            }
            float[] all = Arrays.copyOf(y, y.length + 2 * shape.channels());
            System.arraycopy(layer.runningMean(), 0, all, y.length, shape.channels());
            System.arraycopy(layer.runningVar(), 0, all, y.length + shape.channels(), shape.channels());
            return all;
        }
    }
}

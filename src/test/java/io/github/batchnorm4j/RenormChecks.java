package io.github.batchnorm4j;

import static io.github.batchnorm4j.Tolerance.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.internal.BatchNormBackend;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Batch Renormalization's checks, run on a given backend (the CPU tests and the CUDA tests share
 * them): against the fp64 reference of Ioffe's Algorithm 1, bitwise plain batch norm at rmax = 1,
 * dmax = 0, and inference unchanged.
 */
final class RenormChecks {
    private RenormChecks() {
    }

    /**
     * One training step with running statistics away from the batch's (so r and d are clipped in
     * some channels and not in others) against the fp64 reference: y, dx, dgamma, dbeta, and the
     * running update, which is plain batch norm's bit for bit.
     */
    static void matchesTheReference(Supplier<BatchNormBackend> backend, Shape shape, double rmax, double dmax) {
        Random random = new Random(shape.hashCode() * 31 + (long) (rmax * 1000 + dmax));
        int channels = shape.channels();
        float[] x = TestData.activations(random, shape, 1e3);
        float[] dy = TestData.gaussian(random, x.length);
        float[] gamma = TestData.uniform(random, channels, 0.5, 1.5);
        float[] beta = TestData.gaussian(random, channels);
        double[] mean = Float64Reference.mean(shape, x), var = Float64Reference.variance(shape, x, mean);
        float[] runningMean = new float[channels], runningVar = new float[channels];
        for (int c = 0; c < channels; c++) {
            double sigma = Math.sqrt(var[c]);
            runningMean[c] = (float) (mean[c] + sigma * 3 * random.nextGaussian());
            runningVar[c] = (float) (var[c] * Math.exp(2 * random.nextGaussian()));
        }
        try (BatchNorm renorm = BatchNorm.builder(channels).batchRenormalization(rmax, dmax).build(backend.get());
                BatchNorm plain = BatchNorm.builder(channels).build(backend.get())) {
            for (BatchNorm layer : new BatchNorm[] {renorm, plain}) {
                layer.setGamma(gamma);
                layer.setBeta(beta);
                layer.setRunningMean(runningMean);
                layer.setRunningVar(runningVar);
            }
            double[][] want = Float64Reference.renormTraining(shape, x, dy, gamma, beta, runningMean, runningVar, 1e-5,
                    rmax, dmax);
            float[] y = new float[x.length], dx = new float[x.length], yPlain = new float[x.length];
            renorm.forwardTraining(shape, x, y);
            plain.forwardTraining(shape, x, yPlain);
            String what = renorm.backendName() + " renorm(" + rmax + ", " + dmax + ") " + shape;
            assertClose(what + " y", want[0], y, Tolerance.OUTPUT_ABS, Tolerance.OUTPUT_REL);
            assertArrayEquals(plain.runningMean(), renorm.runningMean(), what + ": the running update is plain");
            assertArrayEquals(plain.runningVar(), renorm.runningVar(), what + ": the running update is plain");
            assertEquals(1, renorm.numBatchesTracked());

            renorm.backward(shape, x, dy, dx);
            double scale = Math.sqrt(shape.valuesPerChannel());
            assertClose(what + " dx", want[1], dx, 1e-5, 1e-4);
            assertClose(what + " dgamma", want[2], renorm.gammaGradient(), 2e-6 * scale, 1e-5);
            assertClose(what + " dbeta", want[3], renorm.betaGradient(), 2e-6 * scale, 1e-5);
        }
    }

    /** rmax = 1, dmax = 0 is plain batch norm, bit for bit: outputs, gradients and all state, two steps. */
    static void isPlainAtTheNeutralLimits(Supplier<BatchNormBackend> backend, Shape shape) {
        Random random = new Random(shape.hashCode());
        int channels = shape.channels();
        float[] gamma = TestData.uniform(random, channels, 0.5, 1.5);
        float[] beta = TestData.gaussian(random, channels);
        beta[0] = -0.0f; // beta + gamma * 0 would turn -0 into +0
        try (BatchNorm renorm = BatchNorm.builder(channels).batchRenormalization(1, 0).build(backend.get());
                BatchNorm plain = BatchNorm.builder(channels).build(backend.get())) {
            for (BatchNorm layer : new BatchNorm[] {renorm, plain}) {
                layer.setGamma(gamma);
                layer.setBeta(beta);
            }
            for (int step = 0; step < 2; step++) {
                float[] x = TestData.activations(random, shape, 100);
                float[] dy = TestData.gaussian(random, x.length);
                float[] y1 = new float[x.length], y2 = new float[x.length];
                float[] dx1 = new float[x.length], dx2 = new float[x.length];
                renorm.forwardTraining(shape, x, y1);
                plain.forwardTraining(shape, x, y2);
                renorm.backward(shape, x, dy, dx1);
                plain.backward(shape, x, dy, dx2);
                String what = renorm.backendName() + " " + shape + " step " + step;
                assertArrayEquals(y2, y1, what + " y");
                assertArrayEquals(dx2, dx1, what + " dx");
                float[][] a = TestData.wholeState(renorm), b = TestData.wholeState(plain);
                for (int i = 0; i < a.length; i++) {
                    assertArrayEquals(b[i], a[i], what + " state " + i);
                }
            }
            // inference is unchanged by renormalization
            float[] x = TestData.activations(random, shape, 100);
            float[] y1 = new float[x.length], y2 = new float[x.length];
            renorm.setRenormLimits(3, 5);
            renorm.forwardInference(shape, x, y1);
            plain.forwardInference(shape, x, y2);
            assertArrayEquals(y2, y1, renorm.backendName() + " " + shape + " inference");
            assertTrue(renorm.toString().contains("renormalization"), renorm.toString());
        }
    }
}

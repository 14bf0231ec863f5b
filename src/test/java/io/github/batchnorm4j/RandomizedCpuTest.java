package io.github.batchnorm4j;

import static io.github.batchnorm4j.Tolerance.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.internal.cpu.CpuBackend;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Thousands of random shapes and settings from a seeded generator, each checked against the fp64
 * reference (outputs, running statistics over several steps, backward) or, where the input is
 * invalid (one value per channel in training), against the expected rejection with the state
 * unchanged. Plus several layers on several threads against sequential use.
 */
class RandomizedCpuTest {
    private static final int CASES = 2000;

    @Test
    void randomShapesAndSettingsMatchTheReferenceOrAreRejected() {
        Random random = new Random(20261121);
        int checked = 0, rejected = 0;
        for (int k = 0; k < CASES; k++) {
            Shape shape = TestData.randomShape(random);
            int channels = shape.channels();
            double momentum = random.nextInt(4) == 0 ? Double.NaN : 0.01 + 0.98 * random.nextDouble();
            boolean unbiased = random.nextBoolean();
            double eps = Math.pow(10, -1 - 5 * random.nextDouble());
            BatchNormBuilder builder = BatchNorm.builder(channels).eps(eps)
                    .runningVariance(unbiased ? VarianceEstimator.UNBIASED : VarianceEstimator.BIASED);
            if (Double.isNaN(momentum)) {
                builder.cumulativeAverage();
            } else {
                builder.momentum(momentum);
            }
            double offset = random.nextInt(3) == 0 ? 1e3 * random.nextGaussian() : 0;
            String what = "case " + k + ": " + shape + " momentum " + momentum + " unbiased " + unbiased + " eps " + eps
                    + " offset " + offset;
            try (BatchNorm layer = builder.build(new CpuBackend())) {
                float[] gamma = TestData.uniform(random, channels, 0.5, 1.5);
                float[] beta = TestData.gaussian(random, channels);
                layer.setGamma(gamma);
                layer.setBeta(beta);
                float[] y = new float[(int) shape.elementCount()];
                if (shape.valuesPerChannel() < 2) {
                    float[] x = TestData.activations(random, shape, offset);
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> layer.forwardTraining(shape, x, y), what);
                    assertTrue(e.getMessage().startsWith("Expected more than 1 value per channel when training"), what);
                    assertArrayEquals(new float[channels], layer.runningMean(), what + ": state unchanged");
                    assertEquals(0, layer.numBatchesTracked(), what);
                    rejected++;
                    continue;
                }
                Float64Reference.RunningStats reference = new Float64Reference.RunningStats(channels);
                double[] unused = new double[channels];
                float[] x = null;
                int steps = 1 + random.nextInt(3);
                for (int step = 0; step < steps; step++) {
                    x = TestData.activations(random, shape, offset);
                    layer.forwardTraining(shape, x, y);
                    reference.update(shape, x, momentum, unbiased, false, unused, unused.clone());
                }
                double[] mean = Float64Reference.mean(shape, x);
                double[] var = Float64Reference.variance(shape, x, mean);
                assertClose(what + " y", Float64Reference.normalize(shape, x, mean, var, eps, gamma, beta), y,
                        Tolerance.OUTPUT_ABS, Tolerance.OUTPUT_REL);
                assertClose(what + " running mean", reference.mean, layer.runningMean(), 1e-5 * (1 + Math.abs(offset)),
                        1e-5);
                assertClose(what + " running var", reference.var, layer.runningVar(), 1e-4, 1e-4);

                float[] dy = TestData.gaussian(random, x.length), dx = new float[x.length];
                layer.backward(shape, x, dy, dx);
                double[][] grads = Float64Reference.backwardTraining(shape, x, dy, gamma, eps);
                double scale = Math.sqrt(shape.valuesPerChannel());
                assertClose(what + " dx", grads[0], dx, 1e-4, 1e-3);
                assertClose(what + " dgamma", grads[1], layer.gammaGradient(), 1e-4 * scale, 1e-4);
                checked++;
            }
        }
        assertEquals(CASES, checked + rejected);
        assertTrue(rejected > 20 && checked > 1500, checked + " checked, " + rejected + " rejected");
    }

    @Test
    void layersOnSeveralThreadsGiveTheSequentialResultsBitForBit() throws Exception {
        ConcurrentUse.assertSameAsSequential(Shape.nchw(4, 6, 9, 9), 4, 2, 25, CpuBackend::new);
        // Large enough for the shared worker pool: callers race for it, the losers run inline.
        ConcurrentUse.assertSameAsSequential(Shape.nchw(4, 8, 40, 40), 4, 2, 10, CpuBackend::new);
        ConcurrentUse.assertSameAsSequential(Shape.nc(256, 320), 4, 2, 10, CpuBackend::new);
    }
}

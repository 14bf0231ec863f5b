package io.github.batchnorm4j;

import static io.github.batchnorm4j.Tolerance.OUTPUT_ABS;
import static io.github.batchnorm4j.Tolerance.OUTPUT_REL;
import static io.github.batchnorm4j.Tolerance.STATS_REL;
import static io.github.batchnorm4j.Tolerance.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cpu.WorkerPool;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The CPU path against the fp64 reference on fresh seeded inputs. */
class CpuBatchNormTest {
    private static final long SEED = 20261121L;

    static Stream<Shape> allShapes() {
        List<Shape> shapes = new ArrayList<>(TestData.awkwardShapes());
        shapes.addAll(TestData.multiChunkShapes());
        return shapes.stream();
    }

    static Stream<Shape> multiChunkShapes() {
        return TestData.multiChunkShapes().stream();
    }

    private static BatchNorm layer(Random random, int channels) {
        BatchNorm layer = BatchNorm.builder(channels).build();
        layer.setGamma(TestData.uniform(random, channels, 0.5, 1.5));
        layer.setBeta(TestData.gaussian(random, channels));
        return layer;
    }

    @ParameterizedTest
    @MethodSource("allShapes")
    void trainingForwardMatchesReference(Shape shape) {
        Random random = new Random(SEED + shape.hashCode());
        try (BatchNorm layer = layer(random, shape.channels())) {
            float[] x = TestData.activations(random, shape, 0);
            float[] y = new float[x.length];
            layer.forwardTraining(shape, x, y);

            double[] mean = Float64Reference.mean(shape, x);
            double[] var = Float64Reference.variance(shape, x, mean);
            double[] want = Float64Reference.normalize(shape, x, mean, var, 1e-5, layer.gamma(), layer.beta());
            assertClose("y " + shape, want, y, OUTPUT_ABS, OUTPUT_REL);
            assertClose("saved mean " + shape, mean, layer.savedMean(), 1e-6, STATS_REL);
            double[] invstd = new double[mean.length];
            double[] runningVar = new double[mean.length];
            double[] runningMean = new double[mean.length];
            long m = shape.valuesPerChannel();
            for (int c = 0; c < mean.length; c++) {
                invstd[c] = 1 / Math.sqrt(var[c] + 1e-5);
                runningMean[c] = 0.1 * mean[c];
                runningVar[c] = 0.9 + 0.1 * var[c] * m / (m - 1);
            }
            assertClose("saved invstd " + shape, invstd, layer.savedInvStd(), 0, 1e-5);
            assertClose("running mean " + shape, runningMean, layer.runningMean(), 1e-6, STATS_REL);
            assertClose("running var " + shape, runningVar, layer.runningVar(), 0, 1e-5);
            assertEquals(1, layer.numBatchesTracked());
        }
    }

    @ParameterizedTest
    @MethodSource("allShapes")
    void largeMeanDataNormalizesToFloat64Accuracy(Shape shape) {
        Random random = new Random(SEED ^ shape.hashCode());
        try (BatchNorm layer = BatchNorm.builder(shape.channels()).build()) {
            float[] x = new float[Math.toIntExact(shape.elementCount())];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (1e4 + random.nextGaussian());
            }
            float[] y = new float[x.length];
            layer.forwardTraining(shape, x, y);
            double[] mean = Float64Reference.mean(shape, x);
            double[] var = Float64Reference.variance(shape, x, mean);
            double[] want = Float64Reference.normalize(shape, x, mean, var, 1e-5, layer.gamma(), layer.beta());
            // The mission's bar: 1e-5 relative (plus a float's worth near zero).
            assertClose("y with mean 1e4 " + shape, want, y, 1e-5, 1e-5);
        }
    }

    @ParameterizedTest
    @MethodSource("allShapes")
    void backwardMatchesReferenceInBothModes(Shape shape) {
        Random random = new Random(SEED * 31 + shape.hashCode());
        try (BatchNorm layer = layer(random, shape.channels())) {
            float[] x = TestData.activations(random, shape, 5);
            float[] y = new float[x.length];
            float[] dy = TestData.gaussian(random, x.length);
            float[] dx = new float[x.length];

            layer.forwardTraining(shape, x, y);
            layer.backward(shape, x, dy, dx);
            double[][] want = Float64Reference.backwardTraining(shape, x, dy, layer.gamma(), 1e-5);
            double scale = Math.sqrt(shape.valuesPerChannel());
            assertClose("training dx " + shape, want[0], dx, 1e-5, 1e-4);
            assertClose("training dgamma " + shape, want[1], layer.gammaGradient(), 2e-6 * scale, 1e-5);
            assertClose("training dbeta " + shape, want[2], layer.betaGradient(), 2e-6 * scale, 1e-5);

            layer.setRunningMean(TestData.gaussian(random, shape.channels()));
            layer.setRunningVar(TestData.uniform(random, shape.channels(), 0.5, 3));
            layer.forwardInference(shape, x, y);
            layer.backward(shape, x, dy, dx);
            want = Float64Reference.backwardInference(shape, x, dy, layer.gamma(), layer.runningMean(),
                    layer.runningVar(), 1e-5);
            assertClose("inference dx " + shape, want[0], dx, 1e-6, 1e-5);
            assertClose("inference dgamma " + shape, want[1], layer.gammaGradient(), 2e-6 * scale, 1e-5);
            assertClose("inference dbeta " + shape, want[2], layer.betaGradient(), 2e-6 * scale, 1e-5);
        }
    }

    /**
     * A layer without gamma and beta, after an inference forward, sums nothing in backward: dx is
     * dy times the running 1/sqrt(var + eps). A training step first leaves other coefficients
     * behind, so a dx pass that read stale ones fails here.
     */
    @ParameterizedTest
    @MethodSource("allShapes")
    void inferenceBackwardWithoutAffineScalesDy(Shape shape) {
        Random random = new Random(SEED * 37 + shape.hashCode());
        try (BatchNorm layer = BatchNorm.builder(shape.channels()).affine(false).build()) {
            float[] x = TestData.activations(random, shape, 5);
            float[] y = new float[x.length];
            float[] dy = TestData.gaussian(random, x.length);
            float[] dx = new float[x.length];
            layer.forwardTraining(shape, x, y);
            layer.backward(shape, x, dy, dx);

            layer.setRunningMean(TestData.gaussian(random, shape.channels()));
            layer.setRunningVar(TestData.uniform(random, shape.channels(), 0.5, 3));
            layer.forwardInference(shape, x, y);
            layer.backward(shape, x, dy, dx);
            float[] ones = new float[shape.channels()];
            Arrays.fill(ones, 1f);
            double[][] want = Float64Reference.backwardInference(shape, x, dy, ones, layer.runningMean(),
                    layer.runningVar(), 1e-5);
            assertClose("inference dx without affine " + shape, want[0], dx, 1e-6, 1e-5);
        }
    }

    /** The reference backward formula itself, against central differences of the fp64 forward. */
    @Test
    void referenceBackwardAgreesWithFiniteDifferences() {
        Random random = new Random(SEED);
        Shape shape = Shape.nchw(3, 2, 2, 3);
        float[] x = TestData.activations(random, shape, 1);
        float[] dy = TestData.gaussian(random, x.length);
        float[] gamma = {0.7f, 1.3f};
        float[] beta = {0.1f, -0.2f};
        double[][] analytic = Float64Reference.backwardTraining(shape, x, dy, gamma, 1e-5);
        double h = 1e-3;
        for (int i = 0; i < x.length; i++) {
            float saved = x[i];
            x[i] = (float) (saved + h);
            double up = loss(shape, x, dy, gamma, beta);
            x[i] = (float) (saved - h);
            double down = loss(shape, x, dy, gamma, beta);
            double step = ((float) (saved + h)) - ((float) (saved - h));
            x[i] = saved;
            double numeric = (up - down) / step;
            assertEquals(numeric, analytic[0][i], 2e-3 * (1 + Math.abs(numeric)), "dx[" + i + "]");
        }
    }

    private static double loss(Shape s, float[] x, float[] dy, float[] gamma, float[] beta) {
        double[] mean = Float64Reference.mean(s, x);
        double[] y = Float64Reference.normalize(s, x, mean, Float64Reference.variance(s, x, mean), 1e-5, gamma, beta);
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum += y[i] * dy[i];
        }
        return sum;
    }

    static Stream<Object[]> averagingModes() {
        return Stream.of(
                new Object[] {"momentum 0.1 unbiased", BatchNorm.builder(3), 0.1, true, false},
                new Object[] {"decay 0.99 (Keras)", BatchNorm.builder(3).decay(0.99), 0.01, true, false},
                new Object[] {"momentum 0.3 biased", BatchNorm.builder(3).momentum(0.3)
                        .runningVariance(VarianceEstimator.BIASED), 0.3, false, false},
                new Object[] {"cumulative", BatchNorm.builder(3).cumulativeAverage(), Double.NaN, true, false},
                new Object[] {"momentum 1", BatchNorm.builder(3).momentum(1), 1.0, true, false},
                new Object[] {"momentum 0", BatchNorm.builder(3).momentum(0), 0.0, true, false},
                new Object[] {"bias-corrected decay 0.9", BatchNorm.builder(3).decay(0.9).biasCorrection(true), 0.1,
                        true, true},
                new Object[] {"bias-corrected decay 0.999", BatchNorm.builder(3).decay(0.999).biasCorrection(true),
                        1 - 0.999, true, true});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("averagingModes")
    void runningStatisticsFollowTheReferenceOverManyBatches(String name, BatchNormBuilder builder, double momentum,
            boolean unbiased, boolean biasCorrection) {
        Random random = new Random(SEED + name.hashCode());
        Shape[] shapes = {Shape.nchw(4, 3, 5, 5), Shape.nchw(2, 3, 7, 1), Shape.nchw(9, 3, 3, 3)};
        Float64Reference.RunningStats want = new Float64Reference.RunningStats(3);
        double[] rawMean = new double[3];
        double[] rawVar = new double[3];
        try (BatchNorm layer = builder.build()) {
            for (int step = 0; step < 30; step++) {
                Shape shape = shapes[step % shapes.length];
                float[] x = TestData.activations(random, shape, 2);
                layer.forwardTraining(shape, x, new float[x.length]);
                want.update(shape, x, momentum, unbiased, biasCorrection, rawMean, rawVar);
                assertClose(name + " running mean after " + (step + 1), want.mean, layer.runningMean(), 1e-6, 1e-5);
                assertClose(name + " running var after " + (step + 1), want.var, layer.runningVar(), 1e-6, 1e-5);
            }
            assertEquals(30, layer.numBatchesTracked());
        }
    }

    /** The mission's scenario: train on a stream of mini-batches, then normalize one example alone. */
    @ParameterizedTest
    @MethodSource("scenarioShapes")
    void trainThenNormalizeOneExampleWithRunningAverages(Shape batch, Shape single) {
        Random random = new Random(SEED);
        try (BatchNorm layer = layer(random, batch.channels())) {
            for (int step = 0; step < 50; step++) {
                float[] x = TestData.activations(random, batch, 3);
                layer.forwardTraining(batch, x, new float[x.length]);
            }
            float[] z = TestData.activations(random, single, 3);
            float[] y = new float[z.length];
            layer.forwardInference(single, z, y);
            float[] gamma = layer.gamma(), beta = layer.beta(), rm = layer.runningMean(), rv = layer.runningVar();
            double[] want = new double[z.length];
            for (int h = 0; h < single.height(); h++) {
                for (int w = 0; w < single.width(); w++) {
                    for (int c = 0; c < single.channels(); c++) {
                        int i = Float64Reference.index(single, 0, c, h, w);
                        want[i] = gamma[c] * (z[i] - rm[c]) / Math.sqrt(rv[c] + 1e-5) + beta[c];
                    }
                }
            }
            assertClose("single example " + single, want, y, OUTPUT_ABS, OUTPUT_REL);
        }
    }

    static Stream<Object[]> scenarioShapes() {
        return Stream.of(new Object[] {Shape.nc(32, 10), Shape.nc(1, 10)},
                new Object[] {Shape.nchw(8, 3, 4, 4), Shape.nchw(1, 3, 4, 4)},
                new Object[] {Shape.nhwc(8, 4, 4, 3), Shape.nhwc(1, 4, 4, 3)});
    }

    @ParameterizedTest
    @MethodSource("multiChunkShapes")
    void resultsAreBitwiseTheSameForAnyThreadCount(Shape shape) {
        Random random = new Random(SEED);
        float[] x = TestData.activations(random, shape, 7);
        float[] dy = TestData.gaussian(random, x.length);
        float[][] reference = null;
        for (int threads : new int[] {1, 2, 3, 5}) {
            float[][] result = run(new WorkerPool(threads), shape, x, dy);
            if (reference == null) {
                reference = result;
            } else {
                for (int i = 0; i < result.length; i++) {
                    assertArrayEquals(reference[i], result[i], "output " + i + " with " + threads + " threads");
                }
            }
        }
    }

    private static float[][] run(WorkerPool pool, Shape shape, float[] x, float[] dy) {
        try (BatchNorm layer = BatchNorm.builder(shape.channels()).build(new CpuBackend(pool))) {
            float[] y = new float[x.length];
            float[] dx = new float[x.length];
            layer.forwardTraining(shape, x, y);
            layer.backward(shape, x, dy, dx);
            return new float[][] {y, dx, layer.runningMean(), layer.runningVar(), layer.gammaGradient(),
                    layer.betaGradient()};
        }
    }

    @Test
    void noAffineAndNoTrackingBehaveAsPyTorch() {
        Random random = new Random(SEED);
        Shape shape = Shape.nchw(4, 3, 3, 2);
        float[] x = TestData.activations(random, shape, 1);
        float[] y = new float[x.length];
        try (BatchNorm layer = BatchNorm.builder(3).affine(false).trackRunningStats(false).build()) {
            double[] mean = Float64Reference.mean(shape, x);
            double[] want = Float64Reference.normalize(shape, x, mean, Float64Reference.variance(shape, x, mean), 1e-5,
                    new float[] {1, 1, 1}, new float[3]);
            // Without running statistics, inference uses the batch's own, like training.
            layer.forwardInference(shape, x, y);
            assertClose("inference without running stats", want, y, OUTPUT_ABS, OUTPUT_REL);
            layer.forwardTraining(shape, x, y);
            assertClose("training without affine", want, y, OUTPUT_ABS, OUTPUT_REL);
            float[] dy = TestData.gaussian(random, x.length);
            float[] dx = new float[x.length];
            layer.backward(shape, x, dy, dx);
            double[][] grads = Float64Reference.backwardTraining(shape, x, dy, new float[] {1, 1, 1}, 1e-5);
            assertClose("dx without affine", grads[0], dx, 1e-5, 1e-4);
        }
    }

    @Test
    void inPlaceAndOffsetsGiveTheSameResult() {
        Random random = new Random(SEED);
        Shape shape = Shape.nhwc(3, 5, 4, 6);
        float[] x = TestData.activations(random, shape, 1);
        float[] dy = TestData.gaussian(random, x.length);
        float[] y = new float[x.length];
        float[] dx = new float[x.length];
        try (BatchNorm a = BatchNorm.builder(6).build(); BatchNorm b = BatchNorm.builder(6).build()) {
            a.forwardTraining(shape, x, y);
            a.backward(shape, x, dy, dx);

            float[] padded = new float[x.length + 11];
            System.arraycopy(x, 0, padded, 7, x.length);
            b.forwardTraining(shape, padded, 7, padded, 7); // in place, at an offset
            float[] inPlace = java.util.Arrays.copyOfRange(padded, 7, 7 + x.length);
            assertArrayEquals(y, inPlace);
            float[] grad = new float[dy.length + 3];
            System.arraycopy(dy, 0, grad, 3, dy.length);
            b.backward(shape, x, 0, grad, 3, grad, 3);
            assertArrayEquals(dx, java.util.Arrays.copyOfRange(grad, 3, 3 + dx.length));
            assertArrayEquals(a.runningMean(), b.runningMean());
        }
    }

    @Test
    void floatBuffersHeapAndDirectMatchArrays() {
        Random random = new Random(SEED);
        Shape shape = Shape.nchw(2, 4, 3, 5);
        int count = (int) shape.elementCount();
        float[] x = TestData.activations(random, shape, 1);
        float[] dy = TestData.gaussian(random, count);
        float[] y = new float[count];
        float[] dx = new float[count];
        try (BatchNorm a = BatchNorm.builder(4).build()) {
            a.forwardTraining(shape, x, y);
            a.backward(shape, x, dy, dx);
        }
        for (boolean direct : new boolean[] {false, true}) {
            java.nio.FloatBuffer xb = buffer(direct, count + 4).position(2);
            java.nio.FloatBuffer yb = buffer(direct, count + 4).position(1);
            java.nio.FloatBuffer dyb = buffer(direct, count + 4).position(3);
            java.nio.FloatBuffer dxb = buffer(direct, count + 4).position(4);
            xb.put(2, x);
            dyb.put(3, dy);
            try (BatchNorm b = BatchNorm.builder(4).build()) {
                b.forwardTraining(shape, xb, yb);
                b.backward(shape, xb, dyb, dxb);
            }
            float[] gotY = new float[count];
            float[] gotDx = new float[count];
            yb.get(1, gotY);
            dxb.get(4, gotDx);
            assertArrayEquals(y, gotY, "y, direct=" + direct);
            assertArrayEquals(dx, gotDx, "dx, direct=" + direct);
            assertEquals(2, xb.position(), "positions are left as they were");
            assertEquals(1, yb.position());
        }
    }

    private static java.nio.FloatBuffer buffer(boolean direct, int count) {
        return direct ? java.nio.ByteBuffer.allocateDirect(count * 4).order(java.nio.ByteOrder.nativeOrder())
                .asFloatBuffer() : java.nio.FloatBuffer.allocate(count);
    }
}

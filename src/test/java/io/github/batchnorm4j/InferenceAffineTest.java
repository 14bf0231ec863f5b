package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.internal.cpu.CpuBackend;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The inference map and its fold into the preceding layer, against running the unfused layers
 * (a float64 linear layer or convolution, then the library's inference) and a float64 reference.
 */
class InferenceAffineTest {
    /** A layer with random gamma, beta and running statistics around {@code offset}. */
    static BatchNorm randomLayer(Random random, int channels, double offset, BatchNormBuilder builder) {
        BatchNorm layer = builder.build(new CpuBackend());
        if (layer.config().affine()) {
            layer.setGamma(TestData.uniform(random, channels, 0.5, 1.5));
            layer.setBeta(TestData.gaussian(random, channels));
        }
        float[] mean = TestData.gaussian(random, channels);
        for (int c = 0; c < channels; c++) {
            mean[c] += (float) offset;
        }
        layer.setRunningMean(mean);
        layer.setRunningVar(TestData.uniform(random, channels, 0.05, 4));
        return layer;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 65})
    void aFoldedLinearLayerPredictsWhatTheUnfusedLayersDo(int channels) {
        Random random = new Random(channels);
        int inputs = 13, rows = 9;
        float[] w = TestData.gaussian(random, channels * inputs), b = TestData.gaussian(random, channels);
        float[] x = TestData.gaussian(random, rows * inputs);
        for (int i = 0; i < x.length; i++) {
            x[i] += 100; // large means: z then sits far from 0 too
        }
        try (BatchNorm layer = randomLayer(random, channels, 0, BatchNorm.builder(channels))) {
            float[] z = ReferenceLayers.linear(x, rows, inputs, w, b, channels);
            float[] unfused = new float[z.length];
            layer.forwardInference(Shape.nc(rows, channels), z, unfused);
            InferenceAffine.Folded folded = layer.inferenceAffine().foldInto(w, new long[] {channels, inputs}, b);
            assertEquals(2, folded.shape().length);
            float[] y = ReferenceLayers.linear(x, rows, inputs, folded.weight(), folded.bias(), channels);
            double[] reference = reference(layer, Shape.nc(rows, channels), z);
            double scale = 1e-6 * maxAbs(z); // float z carries rounding of that size into both paths
            Tolerance.assertClose("folded linear vs float64 of the unfused layers", reference, y, 20 * scale, 1e-5);
            Tolerance.assertClose("folded linear vs the library's inference", unfused, y, 20 * scale, 1e-5);
        }
    }

    @Test
    void aFoldedConvolutionPredictsWhatTheUnfusedLayersDo() {
        Random random = new Random(3);
        int channels = 5, inputs = 3, n = 2, h = 7, width = 6;
        float[] w = TestData.gaussian(random, channels * inputs * 9), b = TestData.gaussian(random, channels);
        float[] x = TestData.gaussian(random, n * inputs * h * width);
        try (BatchNorm layer = randomLayer(random, channels, 10, BatchNorm.builder(channels).eps(1e-3))) {
            float[] z = ReferenceLayers.convolution(x, n, inputs, h, width, w, b, channels);
            Shape out = Shape.nchw(n, channels, h - 2, width - 2);
            float[] unfused = new float[z.length];
            layer.forwardInference(out, z, unfused);
            InferenceAffine.Folded folded = layer.inferenceAffine()
                    .foldInto(w, new long[] {channels, inputs, 3, 3}, b);
            float[] y = ReferenceLayers.convolution(x, n, inputs, h, width, folded.weight(), folded.bias(), channels);
            double scale = 1e-6 * maxAbs(z);
            Tolerance.assertClose("folded conv vs float64 of the unfused layers", reference(layer, out, z), y,
                    20 * scale, 1e-5);
            Tolerance.assertClose("folded conv vs the library's inference", unfused, y, 20 * scale, 1e-5);
            // without a bias the fold is the shift alone
            InferenceAffine.Folded noBias = layer.inferenceAffine().foldInto(w, new long[] {channels, inputs, 3, 3},
                    null);
            double[] shift = layer.inferenceAffine().shift();
            for (int c = 0; c < channels; c++) {
                assertEquals((float) shift[c], noBias.bias()[c]);
            }
        }
    }

    @Test
    void theMapIsWhatInferenceComputes() {
        Random random = new Random(8);
        for (boolean affine : new boolean[] {true, false}) {
            try (BatchNorm layer = randomLayer(random, 4, 1e3, BatchNorm.builder(4).affine(affine))) {
                InferenceAffine map = layer.inferenceAffine();
                float[] mean = layer.runningMean(), var = layer.runningVar();
                for (int c = 0; c < 4; c++) {
                    double gamma = affine ? layer.gamma()[c] : 1, beta = affine ? layer.beta()[c] : 0;
                    double a = gamma / Math.sqrt(var[c] + 1e-5);
                    assertEquals(a, map.scale()[c], 1e-15 * a);
                    assertEquals(beta - a * mean[c], map.shift()[c], 1e-12 * Math.abs(a * mean[c]));
                }
            }
        }
    }

    @Test
    void badWeightsAreRefused() {
        try (BatchNorm layer = randomLayer(new Random(1), 3, 0, BatchNorm.builder(3));
                BatchNorm untracked = BatchNorm.builder(3).trackRunningStats(false).build(new CpuBackend())) {
            InferenceAffine map = layer.inferenceAffine();
            IllegalArgumentException first = assertThrows(IllegalArgumentException.class,
                    () -> map.foldInto(new float[8], new long[] {4, 2}, null));
            assertTrue(first.getMessage().contains("first dimension 4 but the batch norm has C=3"), first.getMessage());
            assertThrows(IllegalArgumentException.class, () -> map.foldInto(new float[6], new long[] {3, 1, 2}, null));
            assertThrows(IllegalArgumentException.class, () -> map.foldInto(new float[5], new long[] {3, 2}, null));
            assertThrows(IllegalArgumentException.class, () -> map.foldInto(new float[6], new long[] {3, 2},
                    new float[2]));
            float[] nan = new float[6];
            nan[4] = Float.NaN;
            IllegalArgumentException notFinite = assertThrows(IllegalArgumentException.class,
                    () -> map.foldInto(nan, new long[] {3, 2}, null));
            assertTrue(notFinite.getMessage().contains("index 4"), notFinite.getMessage());
            assertThrows(IllegalStateException.class, untracked::inferenceAffine);
        }
    }

    private static double[] reference(BatchNorm layer, Shape shape, float[] z) {
        float[] mean = layer.runningMean(), var = layer.runningVar();
        double[] m = new double[mean.length], v = new double[mean.length];
        for (int c = 0; c < m.length; c++) {
            m[c] = mean[c];
            v[c] = var[c];
        }
        return Float64Reference.normalize(shape, z, m, v, layer.config().eps(), layer.gamma(), layer.beta());
    }

    private static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}

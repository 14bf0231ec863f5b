package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.batchnorm4j.internal.cpu.CpuBackend;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The population-statistics accumulator against the fp64 statistics of the concatenated batches,
 * against a plainly written sequential merge (bitwise), and as a layer's running statistics.
 */
class PopulationStatisticsTest {
    /** Rows per batch: uneven, with batches of 1 row. */
    private static final int[] BATCH_ROWS = {7, 1, 65, 3, 1, 13};

    /** One example's shape per case (N is set per batch). */
    static Stream<Shape> examples() {
        return Stream.of(Shape.nc(1, 1), Shape.nc(1, 7), Shape.nc(1, 65), Shape.nc(1, 131),
                Shape.nchw(1, 1, 1, 1), Shape.nchw(1, 3, 5, 7), Shape.nchw(1, 65, 1, 13), Shape.nchw(1, 2, 31, 37),
                Shape.nhwc(1, 5, 7, 3), Shape.nhwc(1, 1, 13, 65), Shape.nhwc(1, 3, 3, 17));
    }

    /** {@code s} with N = {@code n}. */
    static Shape withN(Shape s, int n) {
        return s.withN(n);
    }

    /** The batches of one case: values around 1e4 per channel, each batch shifted a little. */
    private static List<float[]> batches(Random random, Shape example) {
        List<float[]> batches = new ArrayList<>();
        for (int rows : BATCH_ROWS) {
            float[] x = TestData.activations(random, withN(example, rows), 1e4);
            batches.add(x);
        }
        return batches;
    }

    private static float[] concatenate(List<float[]> batches) {
        int total = batches.stream().mapToInt(b -> b.length).sum();
        float[] all = new float[total];
        int at = 0;
        for (float[] b : batches) {
            System.arraycopy(b, 0, all, at, b.length);
            at += b.length;
        }
        return all;
    }

    private static PopulationStatistics accumulate(Shape example, List<float[]> batches) {
        PopulationStatistics stats = new PopulationStatistics(example.channels());
        for (int b = 0; b < batches.size(); b++) {
            stats.add(withN(example, BATCH_ROWS[b]), batches.get(b));
        }
        return stats;
    }

    @ParameterizedTest
    @MethodSource("examples")
    void matchesTheFloat64StatisticsOfTheConcatenation(Shape example) {
        Random random = new Random(example.hashCode());
        List<float[]> batches = batches(random, example);
        Shape whole = withN(example, Arrays.stream(BATCH_ROWS).sum());
        float[] all = concatenate(batches);
        double[] wantMean = Float64Reference.mean(whole, all);
        double[] wantBiased = Float64Reference.variance(whole, all, wantMean);
        long m = whole.valuesPerChannel();

        PopulationStatistics stats = accumulate(example, batches);
        assertEquals(m, stats.count());
        assertEquals(BATCH_ROWS.length, stats.batches());
        double[] mean = stats.mean(), biased = stats.variance(VarianceEstimator.BIASED);
        double[] unbiased = stats.variance(VarianceEstimator.UNBIASED);
        for (int c = 0; c < example.channels(); c++) {
            assertRelative("mean " + example + " c" + c, wantMean[c], mean[c], 1e-13);
            assertRelative("biased variance " + example + " c" + c, wantBiased[c], biased[c], 1e-10);
            assertRelative("unbiased variance " + example + " c" + c, wantBiased[c] * m / (m - 1), unbiased[c],
                    1e-10);
        }
    }

    private static void assertRelative(String what, double want, double got, double rel) {
        if (!(Math.abs(got - want) <= rel * Math.abs(want))) {
            fail(what + ": want " + want + ", got " + got + " (relative error " + Math.abs(got - want) / Math.abs(want)
                    + ", allowed " + rel + ")");
        }
    }

    /**
     * The accumulator is bitwise the sequential computation below, which uses one thread: so the
     * thread count of the pool does not matter. NCHW and NHWC copies of a tensor agree bitwise too.
     */
    @ParameterizedTest
    @MethodSource("examples")
    void isBitwiseTheSequentialMergeInBatchOrder(Shape example) {
        Random random = new Random(example.hashCode() + 1);
        List<float[]> batches = batches(random, example);
        PopulationStatistics stats = accumulate(example, batches);

        int channels = example.channels();
        double[] mean = new double[channels], m2 = new double[channels];
        long count = 0;
        for (int b = 0; b < batches.size(); b++) {
            Shape s = withN(example, BATCH_ROWS[b]);
            float[] x = batches.get(b);
            long values = s.valuesPerChannel();
            for (int c = 0; c < channels; c++) {
                double sum = 0;
                for (int n = 0; n < s.n(); n++) {
                    for (int h = 0; h < s.height(); h++) {
                        for (int w = 0; w < s.width(); w++) {
                            sum += x[Float64Reference.index(s, n, c, h, w)];
                        }
                    }
                }
                double batchMean = sum / values, squares = 0;
                for (int n = 0; n < s.n(); n++) {
                    for (int h = 0; h < s.height(); h++) {
                        for (int w = 0; w < s.width(); w++) {
                            double d = x[Float64Reference.index(s, n, c, h, w)] - batchMean;
                            squares += d * d;
                        }
                    }
                }
                if (count == 0) {
                    mean[c] = batchMean;
                    m2[c] = squares;
                } else {
                    double delta = batchMean - mean[c], weight = (double) values / (count + values);
                    mean[c] += delta * weight;
                    m2[c] += squares + delta * delta * count * weight;
                }
            }
            count += values;
        }
        assertArrayEquals(mean, stats.mean(), "mean " + example);
        double[] biased = stats.variance(VarianceEstimator.BIASED);
        for (int c = 0; c < channels; c++) {
            assertEquals(m2[c] / count, biased[c], "biased variance " + example + " c" + c);
        }

        if (example.layout() == Layout.NCHW) {
            PopulationStatistics channelsLast = new PopulationStatistics(channels);
            for (int b = 0; b < batches.size(); b++) {
                Shape s = withN(example, BATCH_ROWS[b]);
                Shape t = Shape.nhwc(s.n(), s.height(), s.width(), channels);
                float[] x = batches.get(b), y = new float[x.length];
                for (int n = 0; n < s.n(); n++) {
                    for (int c = 0; c < channels; c++) {
                        for (int h = 0; h < s.height(); h++) {
                            for (int w = 0; w < s.width(); w++) {
                                y[Float64Reference.index(t, n, c, h, w)] = x[Float64Reference.index(s, n, c, h, w)];
                            }
                        }
                    }
                }
                channelsLast.add(t, y);
            }
            assertArrayEquals(stats.toBytes(), channelsLast.toBytes(), "NHWC copy of " + example);
        }
    }

    @Test
    void unevenBatchesWeighByTheirCounts() {
        PopulationStatistics stats = new PopulationStatistics(1);
        stats.add(Shape.nc(1, 1), new float[] {0});
        float[] nine = new float[9];
        Arrays.fill(nine, 10f);
        stats.add(Shape.nc(9, 1), nine);
        // ten values: one 0 and nine 10s; an average of the two batch means would say 5
        assertEquals(9.0, stats.mean()[0]);
        assertEquals(9.0, stats.variance(VarianceEstimator.BIASED)[0], 1e-12);
        assertEquals(10.0, stats.variance(VarianceEstimator.UNBIASED)[0], 1e-12);
    }

    @Test
    void mergingSplitWorkAgreesWithAddingEverything() {
        Shape example = Shape.nchw(1, 5, 3, 7);
        Random random = new Random(11);
        List<float[]> batches = batches(random, example);
        PopulationStatistics all = accumulate(example, batches);
        PopulationStatistics first = new PopulationStatistics(5), second = new PopulationStatistics(5);
        for (int b = 0; b < batches.size(); b++) {
            (b < 2 ? first : second).add(withN(example, BATCH_ROWS[b]), batches.get(b));
        }
        PopulationStatistics merged = new PopulationStatistics(5).merge(first).merge(second);
        assertEquals(all.count(), merged.count());
        assertEquals(all.batches(), merged.batches());
        for (int c = 0; c < 5; c++) {
            assertRelative("merged mean c" + c, all.mean()[c], merged.mean()[c], 1e-14);
            assertRelative("merged variance c" + c, all.variance(VarianceEstimator.UNBIASED)[c],
                    merged.variance(VarianceEstimator.UNBIASED)[c], 1e-11);
        }
        // merging an empty accumulator changes nothing, bit for bit
        byte[] before = all.toBytes();
        all.merge(new PopulationStatistics(5));
        assertArrayEquals(before, all.toBytes());
        // merging with itself doubles the counts and keeps the mean and biased variance
        PopulationStatistics twice = PopulationStatistics.fromBytes(before).merge(all);
        assertEquals(2 * all.count(), twice.count());
        assertEquals(2 * all.batches(), twice.batches());
        assertRelative("self-merged mean", all.mean()[0], twice.mean()[0], 1e-15);
        assertRelative("self-merged variance", all.variance(VarianceEstimator.BIASED)[0],
                twice.variance(VarianceEstimator.BIASED)[0], 1e-14);
    }

    @Test
    void roundTripsThroughBytesAndJavaSerialization() throws IOException, ClassNotFoundException {
        PopulationStatistics stats = accumulate(Shape.nhwc(1, 3, 3, 17), batches(new Random(5), Shape.nhwc(1, 3, 3, 17)));
        byte[] bytes = stats.toBytes();
        assertArrayEquals(bytes, PopulationStatistics.fromBytes(bytes).toBytes());

        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(buffer)) {
            out.writeObject(stats);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(buffer.toByteArray()))) {
            assertArrayEquals(bytes, ((PopulationStatistics) in.readObject()).toBytes());
        }

        assertThrows(IllegalArgumentException.class, () -> PopulationStatistics.fromBytes(Arrays.copyOf(bytes, 40)));
        byte[] negativeM2 = bytes.clone();
        negativeM2[bytes.length - 1] = (byte) 0xC0; // the last M2 becomes negative
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PopulationStatistics.fromBytes(negativeM2));
        assertTrue(e.getMessage().contains("channel 16"), e.getMessage());
    }

    @Test
    void badInputIsRefusedAndChangesNothing() {
        Shape shape = Shape.nchw(2, 3, 2, 2);
        PopulationStatistics stats = new PopulationStatistics(3);
        IllegalStateException empty = assertThrows(IllegalStateException.class, stats::mean);
        assertTrue(empty.getMessage().contains("no batch was added"), empty.getMessage());
        stats.add(Shape.nc(1, 3), new float[] {1, 2, 3});
        IllegalStateException one = assertThrows(IllegalStateException.class,
                () -> stats.variance(VarianceEstimator.UNBIASED));
        assertTrue(one.getMessage().contains("at least 2"), one.getMessage());
        assertArrayEquals(new double[] {0, 0, 0}, stats.variance(VarianceEstimator.BIASED));

        byte[] before = stats.toBytes();
        float[] x = TestData.gaussian(new Random(3), 24);
        x[Float64Reference.index(shape, 1, 2, 0, 1)] = Float.NaN;
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> stats.add(shape, x));
        assertTrue(nan.getMessage().contains("channel 2"), nan.getMessage());
        x[Float64Reference.index(shape, 1, 2, 0, 1)] = Float.NEGATIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> stats.add(shape, x));
        IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                () -> stats.add(Shape.nc(2, 4), new float[8]));
        assertTrue(channels.getMessage().contains("C=4"), channels.getMessage());
        assertThrows(IllegalArgumentException.class, () -> stats.add(shape, new float[23], 0));
        assertThrows(IllegalArgumentException.class, () -> stats.add(shape, new float[24], 1));
        assertThrows(IllegalArgumentException.class, () -> stats.merge(new PopulationStatistics(4)));
        assertThrows(IllegalArgumentException.class, () -> new PopulationStatistics(0));
        assertArrayEquals(before, stats.toBytes());
    }

    @Test
    void becomesALayersRunningStatistics() {
        Shape example = Shape.nhwc(1, 3, 5, 7);
        List<float[]> batches = batches(new Random(17), example);
        PopulationStatistics stats = accumulate(example, batches);
        for (VarianceEstimator estimator : VarianceEstimator.values()) {
            try (BatchNorm layer = BatchNorm.builder(7).runningVariance(estimator).build(new CpuBackend())) {
                layer.setGamma(TestData.uniform(new Random(2), 7, 0.5, 1.5));
                float[] gamma = layer.gamma();
                layer.setRunningStatistics(stats);
                double[] mean = stats.mean(), variance = stats.variance(estimator);
                for (int c = 0; c < 7; c++) {
                    assertEquals((float) mean[c], layer.runningMean()[c]);
                    assertEquals((float) variance[c], layer.runningVar()[c]);
                }
                assertEquals(BATCH_ROWS.length, layer.numBatchesTracked());
                assertArrayEquals(gamma, layer.gamma());

                Shape one = withN(example, 1);
                float[] x = batches.get(1), y = new float[x.length];
                layer.forwardInference(one, x, y);
                float[] beta = layer.beta();
                // the layer holds float32 statistics, as PyTorch's does: at means of 1e4 their rounding
                // alone moves y by 1e-4, so the reference normalizes with the rounded values
                double[] want = Float64Reference.normalize(one, x, asDoubles(layer.runningMean()),
                        asDoubles(layer.runningVar()), 1e-5, gamma, beta);
                Tolerance.assertClose("inference with population statistics", want, y, Tolerance.OUTPUT_ABS,
                        Tolerance.OUTPUT_REL);
            }
        }
        try (BatchNorm wrong = BatchNorm.builder(6).build(new CpuBackend());
                BatchNorm untracked = BatchNorm.builder(7).trackRunningStats(false).build(new CpuBackend());
                BatchNorm single = BatchNorm.builder(1).build(new CpuBackend())) {
            assertThrows(IllegalArgumentException.class, () -> wrong.setRunningStatistics(stats));
            assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0}, wrong.runningMean());
            assertThrows(IllegalStateException.class, () -> untracked.setRunningStatistics(stats));
            PopulationStatistics oneValue = new PopulationStatistics(1).add(Shape.nc(1, 1), new float[] {4});
            assertThrows(IllegalStateException.class, () -> single.setRunningStatistics(oneValue));
            assertArrayEquals(new float[] {1}, single.runningVar());
            PopulationStatistics huge = new PopulationStatistics(1).add(Shape.nc(2, 1), new float[] {-3e38f, 3e38f});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> single.setRunningStatistics(huge));
            assertTrue(e.getMessage().contains("do not fit a float"), e.getMessage());
            assertArrayEquals(new float[] {0}, single.runningMean());
            assertEquals(0, single.numBatchesTracked());
        }
    }

    static double[] asDoubles(float[] values) {
        double[] doubles = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            doubles[i] = values[i];
        }
        return doubles;
    }
}

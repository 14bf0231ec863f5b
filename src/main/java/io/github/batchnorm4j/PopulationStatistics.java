package io.github.batchnorm4j;

import io.github.batchnorm4j.internal.HostArguments;
import io.github.batchnorm4j.internal.cpu.BatchMoments;
import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Exact per-channel statistics of every value seen, over any number of batches: the count, the
 * mean and M2 (the sum of squared deviations), all in fp64. Give the result to a layer with
 * {@link BatchNorm#setRunningStatistics} to replace its running averages by the population's
 * statistics (PreciseBN; or, on unlabeled data of a new domain, AdaBN).
 *
 * <p>Each batch's statistics are computed exactly (two passes, each channel's values summed in
 * order) and Chan-merged into the total in the order the batches come, so batches weigh by their
 * counts and the result is bitwise the same whatever the thread count. Accumulators filled
 * separately (threads, machines) combine with {@link #merge}; merging in another order can differ
 * in the last bits only. An accumulator is serializable ({@link Serializable}, and
 * {@link #toBytes}/{@link #fromBytes}). It is not thread-safe.
 */
public final class PopulationStatistics implements Serializable {
    private static final long serialVersionUID = 1L;
    /** "BN4JPOP1": the first 8 bytes of {@link #toBytes}. */
    private static final long MAGIC = 0x424E344A504F5031L;

    private final int channels;
    /** Values per channel so far (the same for every channel). */
    private long count;
    private long batches;
    private final double[] mean;
    private final double[] m2;

    /** An empty accumulator for {@code channels} channels. */
    public PopulationStatistics(int channels) {
        if (channels < 1) {
            throw new IllegalArgumentException("channels must be at least 1, got " + channels);
        }
        this.channels = channels;
        this.mean = new double[channels];
        this.m2 = new double[channels];
    }

    /** Adds a batch held in exactly {@code shape.elementCount()} floats. */
    public PopulationStatistics add(Shape shape, float[] x) {
        return add(shape, HostArguments.exact("x", x, shape), 0);
    }

    /**
     * Adds the batch at {@code x[offset..]}, laid out as {@code shape} says. A NaN or infinity, a
     * channel count other than this accumulator's, or an array too short throws
     * {@link IllegalArgumentException} and leaves the accumulator as it was.
     *
     * @return this accumulator
     */
    public PopulationStatistics add(Shape shape, float[] x, int offset) {
        if (shape.channels() != channels) {
            throw new IllegalArgumentException("batch " + shape + " has C=" + shape.channels()
                    + " but these statistics have C=" + channels);
        }
        int elements = HostArguments.hostCount(shape);
        HostArguments.checkRange("x", x, offset, elements, shape);
        long values = shape.valuesPerChannel();
        long total = Math.addExact(count, values);
        double[] batchMean = new double[channels], batchM2 = new double[channels];
        int bad = BatchMoments.compute(shape, x, offset, batchMean, batchM2);
        if (bad >= 0) {
            throw new IllegalArgumentException("batch " + shape + " holds a NaN or an infinity in channel " + bad
                    + "; statistics are unchanged");
        }
        BatchMoments.merge(mean, m2, count, batchMean, batchM2, values);
        count = total;
        batches++;
        return this;
    }

    /**
     * Adds everything {@code other} has seen (its values and its batch count), as if its batches
     * had come after this one's; {@code other} is not changed.
     *
     * @return this accumulator
     */
    public PopulationStatistics merge(PopulationStatistics other) {
        if (other.channels != channels) {
            throw new IllegalArgumentException("cannot merge statistics of C=" + other.channels + " into C=" + channels);
        }
        long total = Math.addExact(count, other.count);
        long totalBatches = Math.addExact(batches, other.batches);
        double[] otherMean = other.mean.clone(), otherM2 = other.m2.clone(); // other may be this
        BatchMoments.merge(mean, m2, count, otherMean, otherM2, other.count);
        count = total;
        batches = totalBatches;
        return this;
    }

    public int channels() {
        return channels;
    }

    /** How many values each channel has seen (N*H*W summed over the batches). */
    public long count() {
        return count;
    }

    /** How many batches were added (merged accumulators count theirs). */
    public long batches() {
        return batches;
    }

    /** The per-channel mean. Needs at least one value. */
    public double[] mean() {
        requireValues(1, "a mean");
        return mean.clone();
    }

    /**
     * The per-channel variance: M2 / (count - 1) when unbiased (needs 2 values or more), M2 / count
     * when biased.
     */
    public double[] variance(VarianceEstimator estimator) {
        boolean unbiased = estimator == VarianceEstimator.UNBIASED;
        requireValues(unbiased ? 2 : 1, (unbiased ? "an unbiased" : "a biased") + " variance");
        double divisor = unbiased ? count - 1 : count;
        double[] variance = new double[channels];
        for (int c = 0; c < channels; c++) {
            variance[c] = m2[c] / divisor;
        }
        return variance;
    }

    private void requireValues(long needed, String what) {
        if (count < needed) {
            throw new IllegalStateException(what + " needs at least " + needed + " value(s) per channel; these "
                    + "statistics have seen " + count + (count == 0 ? " (no batch was added)" : ""));
        }
    }

    /**
     * The accumulator as bytes, little-endian: magic "BN4JPOP1", C (int32), count and batches
     * (int64), then C means and C M2s (float64).
     */
    public byte[] toBytes() {
        ByteBuffer out = ByteBuffer.allocate(8 + 4 + 8 + 8 + 16 * channels).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(MAGIC).putInt(channels).putLong(count).putLong(batches);
        for (double v : mean) {
            out.putDouble(v);
        }
        for (double v : m2) {
            out.putDouble(v);
        }
        return out.array();
    }

    /** An accumulator from {@link #toBytes}; anything else is an {@link IllegalArgumentException}. */
    public static PopulationStatistics fromBytes(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 28 || in.getLong() != MAGIC) {
            throw new IllegalArgumentException("not population statistics: " + bytes.length
                    + " bytes without the BN4JPOP1 header");
        }
        int channels = in.getInt();
        if (channels < 1 || bytes.length != 28 + 16L * channels) {
            throw new IllegalArgumentException("population statistics of C=" + channels + " need "
                    + (28 + 16L * channels) + " bytes, got " + bytes.length);
        }
        PopulationStatistics stats = new PopulationStatistics(channels);
        stats.count = in.getLong();
        stats.batches = in.getLong();
        for (int c = 0; c < channels; c++) {
            stats.mean[c] = in.getDouble();
        }
        for (int c = 0; c < channels; c++) {
            stats.m2[c] = in.getDouble();
        }
        String problem = stats.problem();
        if (problem != null) {
            throw new IllegalArgumentException("corrupt population statistics: " + problem);
        }
        return stats;
    }

    /** What breaks this object's invariants, or null. */
    private String problem() {
        if (count < 0 || batches < 0 || (count == 0) != (batches == 0)) {
            return "count " + count + " and batches " + batches;
        }
        for (int c = 0; c < channels; c++) {
            if (!Double.isFinite(mean[c]) || !Double.isFinite(m2[c]) || m2[c] < 0) {
                return "channel " + c + " has mean " + mean[c] + " and M2 " + m2[c];
            }
        }
        return null;
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        if (mean == null || m2 == null || mean.length != channels || m2.length != channels || channels < 1) {
            throw new InvalidObjectException("population statistics with mismatched arrays");
        }
        String problem = problem();
        if (problem != null) {
            throw new InvalidObjectException("corrupt population statistics: " + problem);
        }
    }

    @Override
    public String toString() {
        return "PopulationStatistics[C=" + channels + ", " + count + " values per channel in " + batches + " batches]";
    }
}

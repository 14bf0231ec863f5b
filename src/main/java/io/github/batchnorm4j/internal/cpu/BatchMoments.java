package io.github.batchnorm4j.internal.cpu;

import io.github.batchnorm4j.Shape;

/**
 * The exact per-channel mean and M2 (sum of squared deviations) of one batch, in fp64, by two
 * passes over the data. Each channel's values are summed one after another in (n, h, w) order,
 * whatever the layout; threads split the work by channels only. So the result is bitwise the same
 * for any thread count, and for NCHW and NHWC copies of the same tensor.
 */
public final class BatchMoments {
    /** Channels per task in a channels-last tensor: 16 floats are one 64-byte cache line per row. */
    private static final int CHANNELS_PER_TASK = 16;

    private BatchMoments() {
    }

    /**
     * Fills mean[c] and m2[c] for every channel of the tensor at {@code x[offset..]}. Returns -1,
     * or the first channel whose values hold a NaN or an infinity (mean and m2 are then garbage).
     */
    public static int compute(Shape shape, float[] x, int offset, double[] mean, double[] m2) {
        int channels = shape.channels();
        boolean channelsLast = shape.isChannelsLast();
        int block = channelsLast ? CHANNELS_PER_TASK : 1;
        int tasks = (channels + block - 1) / block;
        WorkerPool.shared().run(tasks, task -> {
            int first = task * block, end = Math.min(channels, first + block);
            if (channelsLast) {
                columns(shape, x, offset, first, end, mean, m2);
            } else {
                runs(shape, x, offset, first, mean, m2);
            }
        });
        for (int c = 0; c < channels; c++) {
            if (!Double.isFinite(mean[c]) || !Double.isFinite(m2[c])) {
                return c;
            }
        }
        return -1;
    }

    /** Channels [first, end) of rows of C values (NC, NHWC): both passes walk the rows in order. */
    private static void columns(Shape shape, float[] x, int offset, int first, int end, double[] mean, double[] m2) {
        int channels = shape.channels();
        long rows = shape.valuesPerChannel();
        for (int c = first; c < end; c++) {
            mean[c] = 0;
            m2[c] = 0;
        }
        for (long r = 0; r < rows; r++) {
            int row = offset + (int) (r * channels);
            for (int c = first; c < end; c++) {
                mean[c] += x[row + c];
            }
        }
        for (int c = first; c < end; c++) {
            mean[c] /= rows;
        }
        for (long r = 0; r < rows; r++) {
            int row = offset + (int) (r * channels);
            for (int c = first; c < end; c++) {
                double d = x[row + c] - mean[c];
                m2[c] += d * d;
            }
        }
    }

    /** Channel c of an NCHW tensor: N runs of H*W values, C*H*W apart. */
    private static void runs(Shape shape, float[] x, int offset, int c, double[] mean, double[] m2) {
        int run = (int) shape.spatialSize();
        int stride = run * shape.channels();
        int start = offset + c * run;
        double sum = 0;
        for (int n = 0; n < shape.n(); n++) {
            for (int i = start + n * stride, e = i + run; i < e; i++) {
                sum += x[i];
            }
        }
        double mu = sum / shape.valuesPerChannel();
        double squares = 0;
        for (int n = 0; n < shape.n(); n++) {
            for (int i = start + n * stride, e = i + run; i < e; i++) {
                double d = x[i] - mu;
                squares += d * d;
            }
        }
        mean[c] = mu;
        m2[c] = squares;
    }

    /**
     * Chan-merges partial b (count {@code countB}) into partial a (count {@code countA}), channel
     * by channel, in place in a's arrays.
     */
    public static void merge(double[] meanA, double[] m2A, long countA, double[] meanB, double[] m2B, long countB) {
        for (int c = 0; c < meanA.length; c++) {
            ChannelStatistics.mergeInto(meanA, m2A, c, countA, meanB[c], m2B[c], countB);
        }
    }

    /**
     * sum(dy) and sum(dy * (x - mean[c])) per channel, in fp64, each channel's values added in
     * (n, h, w) order: a worker's share of a synchronized backward's sums.
     */
    public static void gradientSums(Shape shape, float[] x, int xOffset, float[] dy, int dyOffset, double[] mean,
            double[] sumDy, double[] sumDyCentered) {
        int channels = shape.channels();
        int run = shape.isChannelsLast() ? 1 : (int) shape.spatialSize();
        int stride = shape.isChannelsLast() ? channels : run * channels;
        int runs = shape.isChannelsLast() ? (int) shape.valuesPerChannel() : shape.n();
        for (int c = 0; c < channels; c++) {
            double s1 = 0, s2 = 0;
            int start = shape.isChannelsLast() ? c : c * run;
            for (int n = 0; n < runs; n++) {
                for (int i = start + n * stride, e = i + run; i < e; i++) {
                    double g = dy[dyOffset + i];
                    s1 += g;
                    s2 += g * (x[xOffset + i] - mean[c]);
                }
            }
            sumDy[c] = s1;
            sumDyCentered[c] = s2;
        }
    }
}

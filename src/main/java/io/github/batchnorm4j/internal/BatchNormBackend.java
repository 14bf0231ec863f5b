package io.github.batchnorm4j.internal;

import io.github.batchnorm4j.Shape;

/**
 * Where the arithmetic of one layer runs. One instance per layer (it may hold scratch memory);
 * the layer validates every argument before it calls in, so implementations may assume shapes,
 * offsets and lengths are consistent with the state's channel count.
 *
 * <p>Host data arrive as float arrays with offsets; {@link BatchNorm} turns direct buffers into
 * arrays. A device backend adds entry points for device memory beside these.
 */
public interface BatchNormBackend extends AutoCloseable {
    /** A short name for logs and reports, such as {@code cpu}. */
    String name();

    /**
     * Training forward: batch statistics, normalize x into y with them, then
     * {@link LayerState#commitBatch} (which updates the running statistics when they are tracked).
     */
    void forwardTraining(LayerState state, Shape shape, float[] x, int xOffset, float[] y, int yOffset);

    /**
     * Inference forward: normalize with the running statistics, or, when the layer does not track
     * them, with the batch's own statistics (as PyTorch does) without updating anything.
     */
    void forwardInference(LayerState state, Shape shape, float[] x, int xOffset, float[] y, int yOffset);

    /**
     * Gradients of the latest forward (its saved statistics): dx, and, for an affine layer, the
     * gamma and beta gradients in {@code state}.
     */
    void backward(LayerState state, Shape shape, float[] x, int xOffset, float[] dy, int dyOffset,
            float[] dx, int dxOffset);

    /**
     * A training forward with batch statistics given from outside (synchronized batch norm: the
     * merged statistics of every worker's batch): per-channel mean and biased variance over
     * {@code count} values, of which this call's x holds some. Normalizes x into y and commits
     * like {@link #forwardTraining}, the unbiased running variance using {@code count}.
     */
    default void forwardTrainingWithStatistics(LayerState state, Shape shape, float[] x, int xOffset, float[] y,
            int yOffset, double[] mean, double[] variance, long count) {
        throw new UnsupportedOperationException("the " + name() + " backend does not take synchronized batch "
                + "statistics yet; use the cpu backend for synchronized batch norm");
    }

    /**
     * The backward of a {@link #forwardTrainingWithStatistics} with gradient sums given from
     * outside: sum(dy) and sum(dy * (x - mean)) per channel over all {@code count} values.
     */
    default void backwardWithSums(LayerState state, Shape shape, float[] x, int xOffset, float[] dy, int dyOffset,
            float[] dx, int dxOffset, double[] sumDy, double[] sumDyCentered, long count) {
        throw new UnsupportedOperationException("the " + name() + " backend does not take synchronized gradient "
                + "sums yet; use the cpu backend for synchronized batch norm");
    }

    /**
     * Makes {@code state}, the host's view of the layer, current before the host reads it: a
     * backend that keeps the state elsewhere (on a GPU) waits for its work and copies it in.
     */
    default void pull(LayerState state) {
    }

    /** Stores {@code state} where the backend keeps it, after the host wrote it (a setter, a load). */
    default void push(LayerState state) {
    }

    /** The entry points for caller-owned device memory, or null where the backend has none (the CPU). */
    default DeviceEntryPoints device() {
        return null;
    }

    @Override
    void close();
}

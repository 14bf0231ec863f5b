package io.github.batchnorm4j.internal.cpu;

import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.LayerState;

/**
 * Batch norm on the CPU, parallel over fixed chunks of work on the shared {@link WorkerPool}.
 *
 * <p>Work split. Channels-first data (NCHW with H*W &gt; 1) is cut into tasks of one channel's
 * values, {@link CpuTuning#CHUNK} at a time. Channels-last data (NC, NHWC) is cut into chunks of
 * whole rows times blocks of channels. Statistics are sums of values shifted by one of the
 * chunk's own values, in float blocks of at most 64 terms added into fp64 ({@link RunSums}), turned into (count, mean, M2) per chunk and merged with Chan's formula in
 * chunk order. The chunk boundaries depend on the shape only, so results are bitwise the same for
 * any thread count. When a channel is small enough to stay in a core's cache
 * ({@link CpuTuning#FUSED_CHANNEL_VALUES}), or, channels-last, one chunk holds all rows, one task
 * sums its chunks, finishes the statistics and normalizes while the values are still in cache.
 *
 * <p>Precision. The batch mean is kept in fp64. x is centered at the mean rounded to float, which
 * is exact for x near the mean, and the rounding's remainder is folded into the shift in fp64, so
 * data with mean 1e4 and std 1 normalize to about 1e-7 relative; x * scale + (beta - mean * scale)
 * would cost 1e-4.
 *
 * <p>Not thread-safe: one call at a time per instance (one instance per layer). Scratch memory
 * grows to the largest shape seen and is reused, so steady-state calls allocate nothing.
 */
public final class CpuBackend implements BatchNormBackend {
    private final CpuCall call;
    private final CpuNormalize normalize;
    private final CpuStatistics statistics;
    private final CpuBackward backward;

    public CpuBackend(WorkerPool pool) {
        RunSums.checkSetting();
        call = new CpuCall(pool);
        normalize = new CpuNormalize(call);
        statistics = new CpuStatistics(call, normalize);
        backward = new CpuBackward(call);
    }

    public CpuBackend() {
        this(WorkerPool.shared());
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public void forwardTraining(LayerState state, Shape shape, float[] x, int xOffset, float[] y, int yOffset) {
        call.begin(state, shape, x, xOffset, y, yOffset, true);
        call.inferenceCoefficientsOf = null;
        call.renormalize = state.config.batchRenormalization();
        try {
            statistics.batchStatisticsAndNormalize();
            state.commitBatch(shape, call.batchMean, call.batchVar, call.invStd, state.config.trackRunningStats(),
                    call.renormalize ? call.renormR : null, call.renormalize ? call.renormD : null);
        } finally {
            call.end();
        }
    }

    @Override
    public void forwardTrainingWithStatistics(LayerState state, Shape shape, float[] x, int xOffset, float[] y,
            int yOffset, double[] mean, double[] variance, long count) {
        call.begin(state, shape, x, xOffset, y, yOffset, false);
        call.inferenceCoefficientsOf = null;
        call.renormalize = state.config.batchRenormalization();
        try {
            double eps = state.config.eps();
            for (int c = 0; c < call.channels; c++) {
                call.batchMean[c] = mean[c];
                call.batchVar[c] = variance[c];
                call.invStd[c] = LayerState.invStd(variance[c], eps);
                normalize.prepareTraining(c, mean[c], variance[c], call.invStd[c]);
            }
            call.runTasks(call.elementwiseTasks, normalize.normalizeJob);
            state.commitBatch(shape, call.batchMean, call.batchVar, call.invStd, state.config.trackRunningStats(),
                    call.renormalize ? call.renormR : null, call.renormalize ? call.renormD : null, count);
        } finally {
            call.end();
        }
    }

    @Override
    public void backwardWithSums(LayerState state, Shape shape, float[] x, int xOffset, float[] dy, int dyOffset,
            float[] dx, int dxOffset, double[] sumDy, double[] sumDyCentered, long count) {
        call.begin(state, shape, x, xOffset, dx, dxOffset, false);
        call.inferenceCoefficientsOf = null;
        call.dy = dy;
        call.dyo = dyOffset;
        try {
            backward.runWithSums(sumDy, sumDyCentered, count);
        } finally {
            call.end();
        }
    }

    @Override
    public void forwardInference(LayerState state, Shape shape, float[] x, int xOffset, float[] y, int yOffset) {
        call.begin(state, shape, x, xOffset, y, yOffset, !state.config.trackRunningStats());
        try {
            if (!state.config.trackRunningStats()) {
                call.inferenceCoefficientsOf = null;
                call.renormalize = false;
                statistics.batchStatisticsAndNormalize();
                state.commitBatch(shape, call.batchMean, call.batchVar, call.invStd, false, null, null);
                return;
            }
            normalize.withRunningStatistics();
            state.commitRunning(shape); // after the passes, so a failed call changes nothing
        } finally {
            call.end();
        }
    }

    @Override
    public void backward(LayerState state, Shape shape, float[] x, int xOffset, float[] dy, int dyOffset,
            float[] dx, int dxOffset) {
        call.begin(state, shape, x, xOffset, dx, dxOffset, true);
        call.inferenceCoefficientsOf = null;
        call.dy = dy;
        call.dyo = dyOffset;
        try {
            backward.run();
        } finally {
            call.end();
        }
    }

    @Override
    public void close() {
        call.release();
    }
}

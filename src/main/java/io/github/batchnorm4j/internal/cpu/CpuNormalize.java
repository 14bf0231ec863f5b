package io.github.batchnorm4j.internal.cpu;

import static io.github.batchnorm4j.internal.cpu.CpuTuning.CHUNK;

import io.github.batchnorm4j.internal.FaultInjection;
import io.github.batchnorm4j.internal.LayerState;

/**
 * Normalization of a CPU call, y = (x - center) * scale + shift per channel
 * ({@link NormalizeLoops}), with coefficients from the batch statistics or the running ones. The
 * twin of cuda/batch_norm_normalize.cu.
 */
final class CpuNormalize {
    private final CpuCall call;

    final WorkerPool.Job normalizeJob = this::normalizeTask;

    CpuNormalize(CpuCall call) {
        this.call = call;
    }

    /**
     * y = (x - center) * scale + shift, with center = (float) mean, scale = gamma * invStd and
     * shift = beta - (mean - center) * scale: in exact arithmetic (x - mean) * scale + beta.
     */
    void prepareNormalization(int c, double mean, float channelInvStd) {
        prepare(c, mean, channelInvStd, call.state.gamma[c], call.state.beta[c]);
    }

    /**
     * A training forward's coefficients: Batch Renormalization's y = gamma * (xhat * r + d) + beta
     * is the plain map with gamma * r for gamma and beta + gamma * d for beta
     * (LayerState.renormGamma, renormBeta), which are gamma and beta themselves at r = 1, d = 0.
     */
    void prepareTraining(int c, double mean, double variance, float channelInvStd) {
        if (!call.renormalize) {
            prepareNormalization(c, mean, channelInvStd);
            return;
        }
        LayerState state = call.state;
        state.renormCorrection(c, mean, variance, call.renormR, call.renormD);
        prepare(c, mean, channelInvStd, LayerState.renormGamma(state.gamma[c], call.renormR[c]),
                LayerState.renormBeta(state.gamma[c], state.beta[c], call.renormD[c]));
    }

    private void prepare(int c, double mean, float channelInvStd, float gamma, float beta) {
        call.center[c] = (float) mean;
        call.scale[c] = gamma * channelInvStd;
        call.shift[c] = (float) (beta - (mean - call.center[c]) * call.scale[c]);
    }

    private void normalizeTask(int task) {
        FaultInjection.at(FaultInjection.Point.CPU_NORMALIZE_TASK);
        if (call.channelsLast) {
            normalizeRows(task);
        } else {
            normalizeMemoryChunk(task);
        }
    }

    /**
     * Normalizes values [task * CHUNK, (task + 1) * CHUNK) of channels-first memory in memory
     * order: one sequential stream per thread, which the hardware prefetches far better than the
     * N short runs of one channel.
     */
    private void normalizeMemoryChunk(int task) {
        int start = task * CHUNK;
        int end = (int) Math.min((long) call.elementCount(), (long) start + CHUNK);
        for (int p = start; p < end; ) {
            int run = p / call.spatial;
            int c = run % call.channels;
            int s = p - run * call.spatial;
            int len = Math.min(call.spatial - s, end - p);
            float m = call.center[c], sc = call.scale[c], sh = call.shift[c];
            NormalizeLoops.normalize(call.x, call.xo + p, call.y, call.yo + p, len, m, sc, sh);
            p += len;
        }
    }

    /** Normalizes all m values of channel c (channels-first). */
    void normalizeChannel(int c) {
        float m = call.center[c], sc = call.scale[c], sh = call.shift[c];
        int examples = call.perChannel / call.spatial;
        for (int n = 0; n < examples; n++) {
            int at = (n * call.channels + c) * call.spatial;
            NormalizeLoops.normalize(call.x, call.xo + at, call.y, call.yo + at, call.spatial, m, sc, sh);
        }
    }

    void normalizeRows(int task) {
        int chunk = task / call.channelBlocks;
        int c0 = call.channelBlockStart(task);
        int c1 = call.channelBlockEnd(task);
        int r0 = chunk * call.rowsPerChunk;
        int r1 = Math.min(call.rows, r0 + call.rowsPerChunk);
        NormalizeLoops.normalizeRows(call.x, call.xo + r0 * call.channels, call.y, call.yo + r0 * call.channels, r1 - r0, call.channels, c0, c1, call.center,
                call.scale, call.shift, call.shareRowLoads);
    }

    /**
     * Inference with the running statistics: the per-channel coefficients are set up only when
     * the layer's parameters changed since the last call (for a single example that set-up costs
     * more than the normalization), then every value is normalized in memory order.
     */
    void withRunningStatistics() {
        LayerState state = call.state;
        if (call.inferenceCoefficientsOf != state || call.inferenceCoefficientsVersion != state.parametersVersion()) {
            call.inferenceCoefficientsOf = null; // until all are set
            float[] inverse = state.runningInvStd();
            for (int c = 0; c < call.channels; c++) {
                prepareNormalization(c, state.runningMean[c], inverse[c]);
            }
            call.inferenceCoefficientsOf = state;
            call.inferenceCoefficientsVersion = state.parametersVersion();
        }
        call.runTasks(call.elementwiseTasks, normalizeJob);
    }
}

package io.github.batchnorm4j.internal.cpu;

import static io.github.batchnorm4j.internal.cpu.CpuTuning.CHUNK;
import static io.github.batchnorm4j.internal.cpu.CpuTuning.FINISH_CHANNELS;

import io.github.batchnorm4j.internal.FaultInjection;
import io.github.batchnorm4j.internal.LayerState;

/**
 * Backward of a CPU call: the gradient sums sum(dy) and sum(dy * (x - mean)) per channel, the
 * gamma and beta gradients and dx coefficients from them, then dx ({@link BackwardLoops},
 * {@link RunSums}). The twin of cuda/batch_norm_backward.cu.
 */
final class CpuBackward {
    /** Rows a channels-last gradient lane sums before it is added into fp64: RunSums' 16-term gradient blocks. */
    private static final int GRADIENT_ROWS_PER_FOLD = RunSums.GRADIENT_BLOCK / RunSums.LANES;

    private final CpuCall call;

    private boolean applyBatchTerms;
    private boolean reduceGradients;
    private final WorkerPool.Job gradientSumsJob = this::gradientSumsTask;
    private final WorkerPool.Job gradientApplyJob = this::gradientApplyTask;
    private final WorkerPool.Job finishGradientJob = this::finishGradientTask;
    private final WorkerPool.Job fusedGradientJob = this::fusedGradientTask;

    /** m of the gradient formula: this call's values per channel, or every worker's when synchronized. */
    private double valuesPerChannel;

    CpuBackward(CpuCall call) {
        this.call = call;
    }

    /**
     * From sum(dy) and sum(dy * (x - mean)): the gamma and beta gradients, and the coefficients of
     * dx = scale * dy - centeredScale * (x - center) - shift, whose shift takes in the
     * centeredScale * (mean - center) that centering at the float mean leaves out.
     */
    private void prepareGradient(int c, double sumDy, double sumDyCentered) {
        LayerState state = call.state;
        float channelInvStd = state.savedInvStd[c];
        double dBeta = sumDy;
        double dGamma = sumDyCentered * channelInvStd; // sum(dy * xhat)
        float gamma = state.backwardGamma(c); // gamma * r after Batch Renormalization
        if (state.config.affine()) {
            state.nextGammaGradient[c] = (float) state.gammaGradient(c, dGamma, dBeta);
            state.nextBetaGradient[c] = (float) dBeta;
        }
        double k = (double) gamma * channelInvStd;
        call.scale[c] = (float) k;
        if (applyBatchTerms) {
            double kc = k * channelInvStd * dGamma / valuesPerChannel;
            call.centeredScale[c] = (float) kc;
            call.shift[c] = (float) (k * dBeta / valuesPerChannel - kc * (state.savedMean[c] - call.center[c]));
        } else {
            call.shift[c] = 0f;
            call.centeredScale[c] = 0f;
        }
        packGradient(c);
    }

    private void packGradient(int c) {
        BackwardLoops.packGradientCoefficients(call.gradientCoefficients, c, call.center[c], call.scale[c], call.centeredScale[c],
                call.shift[c]);
    }

    /** Gradient sums and dx coefficients of one task's channels, from their chunk partials. */
    private void finishGradientTask(int task) {
        int c0 = task * FINISH_CHANNELS;
        finishGradient(c0, Math.min(call.channels, c0 + FINISH_CHANNELS));
    }

    private void finishGradient(int c0, int c1) {
        call.sumChunkPartials(c0, c1);
        for (int c = c0; c < c1; c++) {
            prepareGradient(c, call.partialA[call.firstSlot(c)], call.partialB[call.firstSlot(c)]);
        }
    }

    private void gradientSumsTask(int task) {
        FaultInjection.at(FaultInjection.Point.CPU_GRADIENT_SUMS_TASK);
        if (call.channelsLast) {
            gradientSumsRows(task);
        } else {
            gradientSumsChannelChunk(task);
        }
    }

    private void gradientSumsChannelChunk(int task) {
        int c = task / call.chunksPerChannel;
        int start = (task % call.chunksPerChannel) * CHUNK;
        int end = Math.min(call.perChannel, start + CHUNK);
        call.partialA[task] = 0;
        call.partialB[task] = 0;
        int stride = call.channels * call.spatial;
        float k = call.x[call.xo + call.firstIndex(c, start)];
        for (int p = start; p < end; ) {
            int n = p / call.spatial;
            int s = p - n * call.spatial;
            int len = Math.min(call.spatial - s, end - p);
            int runs = s == 0 && len == call.spatial ? (end - p) / call.spatial : 1;
            int at = (n * call.channels + c) * call.spatial + s;
            RunSums.gradientSums(call.dy, call.dyo + at, call.x, call.xo + at, len, runs, stride, k, call.partialA, call.partialB, task);
            p += runs * len;
        }
        // sum(dy * (x - mean)) = sum(dy * (x - k)) + (k - mean) * sum(dy)
        call.partialB[task] += (k - call.state.savedMean[c]) * call.partialA[task];
    }

    /** A fused backward task over the same values as {@link #fusedStatisticsTask}: sums, coefficients, dx. */
    private void fusedGradientTask(int task) {
        FaultInjection.at(FaultInjection.Point.CPU_GRADIENT_SUMS_TASK);
        if (call.channelsLast) {
            gradientSumsRows(task);
            finishGradient(call.channelBlockStart(task), call.channelBlockEnd(task));
            gradientApplyRows(task);
        } else {
            int c = task;
            for (int j = 0; j < call.chunksPerChannel; j++) {
                gradientSumsChannelChunk(c * call.chunksPerChannel + j);
            }
            finishGradient(c, c + 1);
            gradientApplyChannel(c);
        }
    }

    /** Channels-last gradient sums, in float lanes per channel folded into fp64 as in {@link #statisticsRows}. */
    private void gradientSumsRows(int task) {
        int chunk = task / call.channelBlocks;
        int c0 = call.channelBlockStart(task);
        int c1 = call.channelBlockEnd(task);
        int r0 = chunk * call.rowsPerChunk;
        int r1 = Math.min(call.rows, r0 + call.rowsPerChunk);
        int slot = chunk * call.channels;
        float[] k = call.rowShift;
        float[] fs = call.rowSum;
        float[] fq = call.rowSquares;
        int first = call.xo + r0 * call.channels;
        for (int c = c0; c < c1; c++) {
            k[slot + c] = call.x[first + c];
            call.partialA[slot + c] = 0;
            call.partialB[slot + c] = 0;
            fs[slot + c] = 0;
            fq[slot + c] = 0;
        }
        for (int r = r0; r < r1; ) {
            int stop = Math.min(r1, r + GRADIENT_ROWS_PER_FOLD);
            BackwardLoops.accumulateGradientRows(call.dy, call.dyo + r * call.channels, call.x, call.xo + r * call.channels, stop - r, call.channels,
                    k, fs, fq, slot, c0, c1);
            r = stop;
            StatisticsLoops.foldLanes(fs, fq, call.partialA, call.partialB, slot + c0, slot + c1); // and zeroes the lanes
        }
        for (int c = c0; c < c1; c++) {
            // sum(dy * (x - mean)) = sum(dy * (x - k)) + (k - mean) * sum(dy)
            call.partialB[slot + c] += (k[slot + c] - call.state.savedMean[c]) * call.partialA[slot + c];
        }
    }

    private void gradientApplyTask(int task) {
        FaultInjection.at(FaultInjection.Point.CPU_GRADIENT_APPLY_TASK);
        if (call.channelsLast) {
            gradientApplyRows(task);
        } else {
            gradientApplyMemoryChunk(task);
        }
    }

    /** dx for values [task * CHUNK, (task + 1) * CHUNK) of channels-first memory, in memory order. */
    private void gradientApplyMemoryChunk(int task) {
        int start = task * CHUNK;
        int end = (int) Math.min((long) call.elementCount(), (long) start + CHUNK);
        for (int p = start; p < end; ) {
            int run = p / call.spatial;
            int c = run % call.channels;
            int s = p - run * call.spatial;
            int len = Math.min(call.spatial - s, end - p);
            float m = call.center[c], k = call.scale[c], kc = call.centeredScale[c], k0 = call.shift[c];
            BackwardLoops.gradientApply(call.dy, call.dyo + p, call.x, call.xo + p, call.y, call.yo + p, len, m, k, kc, k0);
            p += len;
        }
    }

    /** dx for all m values of channel c (channels-first). */
    private void gradientApplyChannel(int c) {
        float m = call.center[c], k = call.scale[c], kc = call.centeredScale[c], k0 = call.shift[c];
        int examples = call.perChannel / call.spatial;
        for (int n = 0; n < examples; n++) {
            int at = (n * call.channels + c) * call.spatial;
            BackwardLoops.gradientApply(call.dy, call.dyo + at, call.x, call.xo + at, call.y, call.yo + at, call.spatial, m, k, kc, k0);
        }
    }

    private void gradientApplyRows(int task) {
        int chunk = task / call.channelBlocks;
        int c0 = call.channelBlockStart(task);
        int c1 = call.channelBlockEnd(task);
        int r0 = chunk * call.rowsPerChunk;
        int r1 = Math.min(call.rows, r0 + call.rowsPerChunk);
        int o = r0 * call.channels;
        BackwardLoops.gradientApplyRows(call.dy, call.dyo + o, call.x, call.xo + o, call.y, call.yo + o, r1 - r0, call.channels, c0, c1, call.center,
                call.scale, call.centeredScale, call.shift, call.gradientCoefficients, call.shareRowLoads);
    }

    /**
     * A synchronized backward: dx from sums over every worker's {@code count} values per channel,
     * given (already all-reduced); the gamma and beta gradients are those sums'.
     */
    void runWithSums(double[] sumDy, double[] sumDyCentered, long count) {
        LayerState state = call.state;
        applyBatchTerms = true;
        reduceGradients = true;
        valuesPerChannel = count;
        for (int c = 0; c < call.channels; c++) {
            call.center[c] = (float) state.savedMean[c];
            prepareGradient(c, sumDy[c], sumDyCentered[c]);
        }
        call.runTasks(call.elementwiseTasks, gradientApplyJob);
        if (state.config.affine()) {
            state.commitGradients();
        }
    }

    /** The backward of the call {@link CpuCall#begin} set up, with y as dx and dy set. */
    void run() {
        LayerState state = call.state;
        int channels = call.channels;
        valuesPerChannel = call.perChannel;
        applyBatchTerms = state.savedFromBatch;
        reduceGradients = state.savedFromBatch || state.config.affine();
        for (int c = 0; c < channels; c++) {
            call.center[c] = (float) state.savedMean[c];
        }
        if (!reduceGradients) {
            for (int c = 0; c < channels; c++) {
                call.scale[c] = state.gamma[c] * state.savedInvStd[c];
                call.shift[c] = 0f;
                call.centeredScale[c] = 0f;
                packGradient(c);
            }
            call.runTasks(call.elementwiseTasks, gradientApplyJob);
        } else if (call.fused) {
            call.runTasks(call.fusedTasks(), fusedGradientJob); // sums, coefficients and dx while in cache
        } else {
            call.runTasks(gradientSumsJob);
            call.runTasks(call.finishTasks(), finishGradientJob);
            call.runTasks(call.elementwiseTasks, gradientApplyJob);
        }
        if (reduceGradients && state.config.affine()) {
            state.commitGradients(); // only now: a step that failed half-way leaves the old gradients
        }
    }
}

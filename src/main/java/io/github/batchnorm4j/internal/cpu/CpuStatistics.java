package io.github.batchnorm4j.internal.cpu;

import static io.github.batchnorm4j.internal.cpu.CpuTuning.CHUNK;
import static io.github.batchnorm4j.internal.cpu.CpuTuning.FINISH_CHANNELS;

import io.github.batchnorm4j.internal.FaultInjection;
import io.github.batchnorm4j.internal.LayerState;

/**
 * The batch statistics of a CPU call (training forward, or inference without running statistics),
 * and the normalization after them: channels-first chunk sums shifted by a value of the chunk
 * ({@link RunSums}) merged with Chan's formula in chunk order; channels-last float lanes per
 * channel ({@link StatisticsLoops}) with one shift per channel, whose chunk sums add directly. The
 * twin of cuda/batch_norm_statistics.cu.
 */
final class CpuStatistics {
    /** Rows a channels-last float lane sums before it is added into fp64: as RunSums' 64-term blocks. */
    private static final int ROWS_PER_FOLD = RunSums.BLOCK / RunSums.LANES;

    private final CpuCall call;
    private final CpuNormalize normalize;

    private final WorkerPool.Job statisticsJob = this::statisticsTask;
    private final WorkerPool.Job finishStatisticsJob = this::finishStatisticsTask;
    private final WorkerPool.Job fusedStatisticsJob = this::fusedStatisticsTask;

    CpuStatistics(CpuCall call, CpuNormalize normalize) {
        this.call = call;
        this.normalize = normalize;
    }

    void batchStatisticsAndNormalize() {
        if (call.fused) {
            call.runTasks(call.fusedTasks(), fusedStatisticsJob);
        } else {
            call.runTasks(statisticsJob);
            call.runTasks(call.finishTasks(), finishStatisticsJob);
            call.runTasks(call.elementwiseTasks, normalize.normalizeJob);
        }
    }

    /** Final statistics of channel c from its merged M2: biased variance, 1/sqrt(var + eps). */
    private void finishChannel(int c, double mean, double m2) {
        double variance = m2 / call.perChannel;
        call.batchMean[c] = mean;
        call.batchVar[c] = variance;
        call.invStd[c] = LayerState.invStd(variance, call.state.config.eps());
        normalize.prepareTraining(c, mean, variance, call.invStd[c]);
    }

    private void statisticsTask(int task) {
        FaultInjection.at(FaultInjection.Point.CPU_STATISTICS_TASK);
        if (call.channelsLast) {
            statisticsRows(task);
        } else {
            statisticsChannelChunk(task);
        }
    }

    /**
     * A fused training task: channels-last, all rows of one block of channels; channels-first, one
     * channel, its chunks in order. Sums, finishes and normalizes while the values are in cache.
     */
    private void fusedStatisticsTask(int task) {
        FaultInjection.at(FaultInjection.Point.CPU_STATISTICS_TASK);
        if (call.channelsLast) {
            statisticsRows(task);
            finishStatistics(call.channelBlockStart(task), call.channelBlockEnd(task));
            normalize.normalizeRows(task);
        } else {
            int c = task;
            for (int j = 0; j < call.chunksPerChannel; j++) {
                statisticsChannelChunk(c * call.chunksPerChannel + j);
            }
            mergeChunkPartials(c);
            normalize.normalizeChannel(c);
        }
    }

    private void statisticsChannelChunk(int task) {
        int c = task / call.chunksPerChannel;
        int start = (task % call.chunksPerChannel) * CHUNK;
        int end = Math.min(call.perChannel, start + CHUNK);
        float k = call.x[call.xo + call.firstIndex(c, start)];
        call.partialA[task] = 0;
        call.partialB[task] = 0;
        int stride = call.channels * call.spatial;
        for (int p = start; p < end; ) {
            int n = p / call.spatial;
            int s = p - n * call.spatial;
            int len = Math.min(call.spatial - s, end - p);
            // Whole runs (one example's H*W values each) go together, so the sums can walk several.
            int runs = s == 0 && len == call.spatial ? (end - p) / call.spatial : 1;
            RunSums.shiftedSums(call.x, call.xo + (n * call.channels + c) * call.spatial + s, len, runs, stride, k, call.partialA, call.partialB, task);
            p += runs * len;
        }
        ChannelStatistics.fromShiftedSums(call.partialA, call.partialB, task, end - start, k);
    }

    /**
     * Channels-last statistics of one chunk of rows and block of channels. Each channel sums into
     * a float lane (one per channel, in memory order, which the JIT vectorizes) for at most
     * {@link #ROWS_PER_FOLD} rows, then into its fp64 partial: the same 64-term float blocks as
     * {@link RunSums}.
     */
    private void statisticsRows(int task) {
        int chunk = task / call.channelBlocks;
        int c0 = call.channelBlockStart(task);
        int c1 = call.channelBlockEnd(task);
        int r0 = chunk * call.rowsPerChunk;
        int r1 = Math.min(call.rows, r0 + call.rowsPerChunk);
        int slot = chunk * call.channels;
        float[] k = call.rowShift;
        float[] fs = call.rowSum;
        float[] fq = call.rowSquares;
        for (int c = c0; c < c1; c++) {
            // Every chunk shifts by the channel's value in row 0, so chunk sums add up directly
            // (a per-chunk shift needs a Chan merge per chunk and channel: 65K of them for NC
            // (4096,1024), a third of the step).
            k[slot + c] = call.x[call.xo + c];
            call.partialA[slot + c] = 0;
            call.partialB[slot + c] = 0;
            fs[slot + c] = 0;
            fq[slot + c] = 0;
        }
        for (int r = r0; r < r1; ) {
            int stop = Math.min(r1, r + ROWS_PER_FOLD);
            StatisticsLoops.accumulateShiftedRows(call.x, call.xo + r * call.channels, stop - r, call.channels, k, fs, fq, slot, c0, c1);
            r = stop;
            StatisticsLoops.foldLanes(fs, fq, call.partialA, call.partialB, slot + c0, slot + c1); // and zeroes the lanes
        }
    }

    /**
     * Channels-first: Chan-merges channel c's chunk partials (each shifted by its own chunk's first
     * value), in chunk order, and finishes the channel.
     */
    private void mergeChunkPartials(int c) {
        int first = call.firstSlot(c);
        long merged = 0;
        for (int j = 0; j < call.chunksPerChannel; j++) {
            long count = Math.min(call.perChannel, (j + 1L) * CHUNK) - (long) j * CHUNK;
            ChannelStatistics.mergeInto(call.partialA, call.partialB, first, merged, call.slot(c, j), count);
            merged += count;
        }
        finishChannel(c, call.partialA[first], call.partialB[first]);
    }

    /** Batch mean, variance and normalization coefficients of one task's channels, from their chunk partials. */
    private void finishStatisticsTask(int task) {
        int c0 = task * FINISH_CHANNELS;
        finishStatistics(c0, Math.min(call.channels, c0 + FINISH_CHANNELS));
    }

    private void finishStatistics(int c0, int c1) {
        if (call.channelsLast) {
            call.sumChunkPartials(c0, c1); // one shift per channel: the chunk sums simply add
            for (int c = c0; c < c1; c++) {
                ChannelStatistics.fromShiftedSums(call.partialA, call.partialB, c, call.perChannel, call.rowShift[c]);
                finishChannel(c, call.partialA[c], call.partialB[c]);
            }
        } else {
            for (int c = c0; c < c1; c++) {
                mergeChunkPartials(c);
            }
        }
    }
}

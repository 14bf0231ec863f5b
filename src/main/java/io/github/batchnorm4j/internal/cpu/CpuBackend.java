package io.github.batchnorm4j.internal.cpu;

import static io.github.batchnorm4j.internal.cpu.CpuTuning.CHANNEL_BLOCK;
import static io.github.batchnorm4j.internal.cpu.CpuTuning.CHUNK;
import static io.github.batchnorm4j.internal.cpu.CpuTuning.COLUMN_TASKS;
import static io.github.batchnorm4j.internal.cpu.CpuTuning.FINISH_CHANNELS;
import static io.github.batchnorm4j.internal.cpu.CpuTuning.FUSED_CHANNEL_VALUES;
import static io.github.batchnorm4j.internal.cpu.CpuTuning.MAX_PARTIALS;
import static io.github.batchnorm4j.internal.cpu.CpuTuning.MIN_COLUMN_BLOCK;
import static io.github.batchnorm4j.internal.cpu.CpuTuning.PARALLEL_MIN_ELEMENTS;

import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.FaultInjection;
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
    /** Rows a channels-last float lane sums before it is added into fp64: as RunSums' 64-term blocks. */
    private static final int ROWS_PER_FOLD = RunSums.BLOCK / RunSums.LANES;

    /** The same for gradient sums: RunSums' 16-term gradient blocks. */
    private static final int GRADIENT_ROWS_PER_FOLD = RunSums.GRADIENT_BLOCK / RunSums.LANES;

    private final WorkerPool pool;

    // Geometry of the current call, derived from its shape alone.
    private boolean channelsLast;
    private int channels;
    private int spatial;        // channels-first: H*W
    private int perChannel;     // m
    private int chunksPerChannel; // channels-first
    private int rows;           // channels-last: N*H*W
    private int rowsPerChunk;
    private int rowChunks;
    private int channelBlock;
    private int channelBlocks;
    private int tasks;
    private int elementwiseTasks; // tasks of passes that need no statistics: memory order, CHUNK values each
    private boolean fused; // one task per channel (block) sums, finishes and normalizes (or applies dx)
    private boolean shareRowLoads; // channels-last: rows in cache or cut into blocks, so 4 per coefficient load
    private boolean parallel;

    // Arguments of the current call.
    private LayerState state;
    private float[] x;
    private int xo;
    private float[] y;
    private int yo;
    private float[] dy;
    private int dyo;
    private boolean applyBatchTerms;
    private boolean reduceGradients;

    // Scratch, grown to the largest call seen.
    private double[] partialA = new double[0];
    private double[] partialB = new double[0];
    private float[] rowShift = new float[0];   // channels-last: each chunk's shift per channel
    private float[] rowSum = new float[0];     // channels-last: float lanes, one per channel
    private float[] rowSquares = new float[0];
    private double[] batchMean = new double[0];
    private double[] batchVar = new double[0];
    private float[] invStd = new float[0];
    /**
     * Each channel's mean rounded to float. x - center is exact for x near the mean, which keeps
     * data with a large mean precise; what the rounding dropped, mean - center, is folded into
     * shift in double, so the loops load one coefficient array fewer (NOTES section 21).
     */
    private float[] center = new float[0];
    private float[] scale = new float[0];
    private float[] shift = new float[0];
    private float[] centeredScale = new float[0];
    /** center, scale, centeredScale and shift of each channel, packed for the dx vector loop. */
    private float[] gradientCoefficients = new float[0];

    /**
     * Which layer state and parameters version center..shift were last filled from for inference;
     * null when a training forward or backward has overwritten them since. Lets repeated inference
     * skip the per-channel set-up, which dominates single-example calls.
     */
    private LayerState inferenceCoefficientsOf;
    private long inferenceCoefficientsVersion;

    private final WorkerPool.Job statisticsJob = this::statisticsTask;
    private final WorkerPool.Job normalizeJob = this::normalizeTask;
    private final WorkerPool.Job gradientSumsJob = this::gradientSumsTask;
    private final WorkerPool.Job gradientApplyJob = this::gradientApplyTask;
    private final WorkerPool.Job finishStatisticsJob = this::finishStatisticsTask;
    private final WorkerPool.Job finishGradientJob = this::finishGradientTask;
    private final WorkerPool.Job fusedStatisticsJob = this::fusedStatisticsTask;
    private final WorkerPool.Job fusedGradientJob = this::fusedGradientTask;

    public CpuBackend(WorkerPool pool) {
        this.pool = pool;
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
        begin(state, shape, x, xOffset, y, yOffset, true);
        inferenceCoefficientsOf = null;
        try {
            batchStatisticsAndNormalize();
            state.commitBatch(shape, batchMean, batchVar, invStd, state.config.trackRunningStats());
        } finally {
            end();
        }
    }

    @Override
    public void forwardInference(LayerState state, Shape shape, float[] x, int xOffset, float[] y, int yOffset) {
        begin(state, shape, x, xOffset, y, yOffset, !state.config.trackRunningStats());
        try {
            if (!state.config.trackRunningStats()) {
                inferenceCoefficientsOf = null;
                batchStatisticsAndNormalize();
                state.commitBatch(shape, batchMean, batchVar, invStd, false);
                return;
            }
            if (inferenceCoefficientsOf != state || inferenceCoefficientsVersion != state.parametersVersion()) {
                inferenceCoefficientsOf = null; // until all are set
                float[] inverse = state.runningInvStd();
                for (int c = 0; c < channels; c++) {
                    prepareNormalization(c, state.runningMean[c], inverse[c]);
                }
                inferenceCoefficientsOf = state;
                inferenceCoefficientsVersion = state.parametersVersion();
            }
            runTasks(elementwiseTasks, normalizeJob);
            state.commitRunning(shape); // after the passes, so a failed call changes nothing
        } finally {
            end();
        }
    }

    @Override
    public void backward(LayerState state, Shape shape, float[] x, int xOffset, float[] dy, int dyOffset,
            float[] dx, int dxOffset) {
        begin(state, shape, x, xOffset, dx, dxOffset, true);
        inferenceCoefficientsOf = null;
        this.dy = dy;
        this.dyo = dyOffset;
        applyBatchTerms = state.savedFromBatch;
        reduceGradients = state.savedFromBatch || state.config.affine();
        try {
            for (int c = 0; c < channels; c++) {
                center[c] = (float) state.savedMean[c];
            }
            if (!reduceGradients) {
                for (int c = 0; c < channels; c++) {
                    scale[c] = state.gamma[c] * state.savedInvStd[c];
                    shift[c] = 0f;
                    centeredScale[c] = 0f;
                    packGradient(c);
                }
                runTasks(elementwiseTasks, gradientApplyJob);
            } else if (fused) {
                runTasks(fusedTasks(), fusedGradientJob); // sums, coefficients and dx while in cache
            } else {
                runTasks(gradientSumsJob);
                runTasks(finishTasks(), finishGradientJob);
                runTasks(elementwiseTasks, gradientApplyJob);
            }
            if (reduceGradients && state.config.affine()) {
                state.commitGradients(); // only now: a step that failed half-way leaves the old gradients
            }
        } finally {
            end();
        }
    }

    @Override
    public void close() {
        inferenceCoefficientsOf = null;
        partialA = partialB = batchMean = batchVar = new double[0];
        rowShift = rowSum = rowSquares = invStd = center = scale = shift = centeredScale = new float[0];
        gradientCoefficients = new float[0];
    }

    // ---- call set-up ----

    /**
     * Takes the call's arguments and its geometry. {@code reduces}: the call sums over the batch
     * (training, backward, or inference without running statistics), so channels-last work may be
     * cut into all-rows blocks of channels that fuse; a plain normalization keeps row chunks, whose
     * long row segments it streams faster.
     */
    private void begin(LayerState state, Shape shape, float[] x, int xOffset, float[] y, int yOffset,
            boolean reduces) {
        this.state = state;
        this.x = x;
        this.xo = xOffset;
        this.y = y;
        this.yo = yOffset;
        channels = shape.channels();
        channelsLast = shape.isChannelsLast();
        perChannel = Math.toIntExact(shape.valuesPerChannel());
        if (channelsLast) {
            rows = perChannel;
            channelBlock = Math.min(channels, CHANNEL_BLOCK);
            // A task takes CHUNK values: a chunk of rows times a block of channels. Rows wider than
            // a block get as many rows per chunk as a block-wide row would, not CHUNK / channels:
            // NC (2048,4096) had 128 chunks of 16 rows, 8 MB of partials and 11% of a training
            // step in the finish (NOTES section 29).
            rowsPerChunk = Math.max(1, CHUNK / channelBlock);
            rowChunks = ceilDiv(rows, rowsPerChunk);
            if ((long) rowChunks * channels > MAX_PARTIALS) {
                rowsPerChunk = ceilDiv(rows, Math.max(1, MAX_PARTIALS / channels));
                rowChunks = ceilDiv(rows, rowsPerChunk);
            }
            int fitting = CHUNK / rows / RunSums.LANES * RunSums.LANES;
            boolean rowsOverflowChunk = rows > Math.max(1, CHUNK / channels);
            if (reduces && rowsOverflowChunk && fitting >= MIN_COLUMN_BLOCK) {
                // Few rows, many channels (an MLP batch such as NC (256,4096)): one task takes all
                // rows of a block of channels that fits in one chunk, so its statistics and its
                // normalization fuse, with one pass over memory and one job instead of three.
                rowsPerChunk = rows;
                rowChunks = 1;
                int share = ceilDiv(ceilDiv(channels, COLUMN_TASKS), RunSums.LANES) * RunSums.LANES;
                channelBlock = Math.min(Math.min(fitting, CHANNEL_BLOCK), Math.max(MIN_COLUMN_BLOCK, share));
            }
            channelBlocks = ceilDiv(channels, channelBlock);
            tasks = rowChunks * channelBlocks;
            elementwiseTasks = tasks;
            fused = rowChunks == 1;
            // Whole rows streamed from memory go fastest one at a time (from 256 channels in one loop
            // over all their values); rows in cache, and segments of rows wider than a block, share
            // coefficient loads (NOTES sections 20, 22, 25).
            shareRowLoads = fused || channelBlock < channels;
            ensurePartials((long) rowChunks * channels);
        } else {
            spatial = Math.toIntExact(shape.spatialSize());
            chunksPerChannel = ceilDiv(perChannel, CHUNK);
            tasks = Math.multiplyExact(channels, chunksPerChannel);
            elementwiseTasks = Math.toIntExact((shape.elementCount() - 1) / CHUNK + 1);
            // A channel's values read for its sums are still in this core's cache when it normalizes
            // them, so x crosses the memory bus once. Backward keeps x and dy, up to twice as much:
            // what overflows L2 is re-read from L3, still cheaper than memory (NOTES section 16).
            fused = perChannel <= FUSED_CHANNEL_VALUES;
            ensurePartials(tasks);
        }
        parallel = shape.elementCount() >= PARALLEL_MIN_ELEMENTS;
        ensureChannels(channels);
    }

    private void end() {
        state = null;
        x = y = dy = null;
    }

    private void runTasks(WorkerPool.Job job) {
        runTasks(tasks, job);
    }

    private void runTasks(int count, WorkerPool.Job job) {
        if (parallel) {
            pool.run(count, job);
        } else {
            for (int t = 0; t < count; t++) {
                job.run(t);
            }
        }
    }

    private void batchStatisticsAndNormalize() {
        if (fused) {
            runTasks(fusedTasks(), fusedStatisticsJob);
        } else {
            runTasks(statisticsJob);
            runTasks(finishTasks(), finishStatisticsJob);
            runTasks(elementwiseTasks, normalizeJob);
        }
    }

    /**
     * Tasks of the fused jobs: one per channel (channels-first), or one per block of channels
     * (channels-last, all rows in one chunk). Each does the same arithmetic, in the same order, as
     * the unfused jobs, so fusing changes the speed and never a bit of the result.
     */
    private int fusedTasks() {
        return channelsLast ? tasks : channels;
    }

    // ---- per-channel arithmetic shared by all layouts ----

    /** Final statistics of channel c from its merged M2: biased variance, 1/sqrt(var + eps). */
    private void finishChannel(int c, double mean, double m2) {
        double variance = m2 / perChannel;
        batchMean[c] = mean;
        batchVar[c] = variance;
        invStd[c] = LayerState.invStd(variance, state.config.eps());
        prepareNormalization(c, mean, invStd[c]);
    }

    /**
     * y = (x - center) * scale + shift, with center = (float) mean, scale = gamma * invStd and
     * shift = beta - (mean - center) * scale: in exact arithmetic (x - mean) * scale + beta.
     */
    private void prepareNormalization(int c, double mean, float channelInvStd) {
        center[c] = (float) mean;
        scale[c] = state.gamma[c] * channelInvStd;
        shift[c] = (float) (state.beta[c] - (mean - center[c]) * scale[c]);
    }

    /**
     * From sum(dy) and sum(dy * (x - mean)): the gamma and beta gradients, and the coefficients of
     * dx = scale * dy - centeredScale * (x - center) - shift, whose shift takes in the
     * centeredScale * (mean - center) that centering at the float mean leaves out.
     */
    private void prepareGradient(int c, double sumDy, double sumDyCentered) {
        float channelInvStd = state.savedInvStd[c];
        double dBeta = sumDy;
        double dGamma = sumDyCentered * channelInvStd;
        if (state.config.affine()) {
            state.nextGammaGradient[c] = (float) dGamma;
            state.nextBetaGradient[c] = (float) dBeta;
        }
        double k = (double) state.gamma[c] * channelInvStd;
        scale[c] = (float) k;
        if (applyBatchTerms) {
            double kc = k * channelInvStd * dGamma / perChannel;
            centeredScale[c] = (float) kc;
            shift[c] = (float) (k * dBeta / perChannel - kc * (state.savedMean[c] - center[c]));
        } else {
            shift[c] = 0f;
            centeredScale[c] = 0f;
        }
        packGradient(c);
    }

    private void packGradient(int c) {
        ElementwisePasses.packGradientCoefficients(gradientCoefficients, c, center[c], scale[c], centeredScale[c],
                shift[c]);
    }

    // ---- statistics ----

    private void statisticsTask(int task) {
        FaultInjection.at(FaultInjection.Point.CPU_STATISTICS_TASK);
        if (channelsLast) {
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
        if (channelsLast) {
            statisticsRows(task);
            finishStatistics(channelBlockStart(task), channelBlockEnd(task));
            normalizeRows(task);
        } else {
            int c = task;
            for (int j = 0; j < chunksPerChannel; j++) {
                statisticsChannelChunk(c * chunksPerChannel + j);
            }
            mergeChunkPartials(c);
            normalizeChannel(c);
        }
    }

    private void statisticsChannelChunk(int task) {
        int c = task / chunksPerChannel;
        int start = (task % chunksPerChannel) * CHUNK;
        int end = Math.min(perChannel, start + CHUNK);
        float k = x[xo + firstIndex(c, start)];
        partialA[task] = 0;
        partialB[task] = 0;
        int stride = channels * spatial;
        for (int p = start; p < end; ) {
            int n = p / spatial;
            int s = p - n * spatial;
            int len = Math.min(spatial - s, end - p);
            // Whole runs (one example's H*W values each) go together, so the sums can walk several.
            int runs = s == 0 && len == spatial ? (end - p) / spatial : 1;
            RunSums.shiftedSums(x, xo + (n * channels + c) * spatial + s, len, runs, stride, k, partialA, partialB, task);
            p += runs * len;
        }
        ChannelStatistics.fromShiftedSums(partialA, partialB, task, end - start, k);
    }

    /**
     * Channels-last statistics of one chunk of rows and block of channels. Each channel sums into
     * a float lane (one per channel, in memory order, which the JIT vectorizes) for at most
     * {@link #ROWS_PER_FOLD} rows, then into its fp64 partial: the same 64-term float blocks as
     * {@link RunSums}.
     */
    private void statisticsRows(int task) {
        int chunk = task / channelBlocks;
        int c0 = channelBlockStart(task);
        int c1 = channelBlockEnd(task);
        int r0 = chunk * rowsPerChunk;
        int r1 = Math.min(rows, r0 + rowsPerChunk);
        int slot = chunk * channels;
        float[] k = rowShift;
        float[] fs = rowSum;
        float[] fq = rowSquares;
        for (int c = c0; c < c1; c++) {
            // Every chunk shifts by the channel's value in row 0, so chunk sums add up directly
            // (a per-chunk shift needs a Chan merge per chunk and channel: 65K of them for NC
            // (4096,1024), a third of the step).
            k[slot + c] = x[xo + c];
            partialA[slot + c] = 0;
            partialB[slot + c] = 0;
            fs[slot + c] = 0;
            fq[slot + c] = 0;
        }
        for (int r = r0; r < r1; ) {
            int stop = Math.min(r1, r + ROWS_PER_FOLD);
            ElementwisePasses.accumulateShiftedRows(x, xo + r * channels, stop - r, channels, k, fs, fq, slot, c0, c1);
            r = stop;
            ElementwisePasses.foldLanes(fs, fq, partialA, partialB, slot + c0, slot + c1); // and zeroes the lanes
        }
    }

    /**
     * Channels-first: Chan-merges channel c's chunk partials (each shifted by its own chunk's first
     * value), in chunk order, and finishes the channel.
     */
    private void mergeChunkPartials(int c) {
        int first = firstSlot(c);
        long merged = 0;
        for (int j = 0; j < chunksPerChannel; j++) {
            long count = Math.min(perChannel, (j + 1L) * CHUNK) - (long) j * CHUNK;
            ChannelStatistics.mergeInto(partialA, partialB, first, merged, slot(c, j), count);
            merged += count;
        }
        finishChannel(c, partialA[first], partialB[first]);
    }

    /**
     * Tasks that turn the chunk partials into per-channel results, {@link CpuTuning#FINISH_CHANNELS}
     * channels each: with thousands of channels (NC (256,4096)) that work was a third of a training
     * step when the caller did it alone.
     */
    private int finishTasks() {
        return ceilDiv(channels, FINISH_CHANNELS);
    }

    /** Batch mean, variance and normalization coefficients of one task's channels, from their chunk partials. */
    private void finishStatisticsTask(int task) {
        int c0 = task * FINISH_CHANNELS;
        finishStatistics(c0, Math.min(channels, c0 + FINISH_CHANNELS));
    }

    private void finishStatistics(int c0, int c1) {
        if (channelsLast) {
            sumChunkPartials(c0, c1); // one shift per channel: the chunk sums simply add
            for (int c = c0; c < c1; c++) {
                ChannelStatistics.fromShiftedSums(partialA, partialB, c, perChannel, rowShift[c]);
                finishChannel(c, partialA[c], partialB[c]);
            }
        } else {
            for (int c = c0; c < c1; c++) {
                mergeChunkPartials(c);
            }
        }
    }

    /** Gradient sums and dx coefficients of one task's channels, from their chunk partials. */
    private void finishGradientTask(int task) {
        int c0 = task * FINISH_CHANNELS;
        finishGradient(c0, Math.min(channels, c0 + FINISH_CHANNELS));
    }

    private void finishGradient(int c0, int c1) {
        sumChunkPartials(c0, c1);
        for (int c = c0; c < c1; c++) {
            prepareGradient(c, partialA[firstSlot(c)], partialB[firstSlot(c)]);
        }
    }

    /**
     * Adds the chunk partial sums of channels [c0, c1), in chunk order, into each channel's first
     * slot. Channels-last partials lie chunk by chunk, so that layout walks them in memory order.
     */
    private void sumChunkPartials(int c0, int c1) {
        if (channelsLast) {
            for (int j = 1; j < rowChunks; j++) {
                int at = j * channels;
                for (int c = c0; c < c1; c++) {
                    partialA[c] += partialA[at + c];
                    partialB[c] += partialB[at + c];
                }
            }
            return;
        }
        for (int c = c0; c < c1; c++) {
            int first = firstSlot(c);
            for (int j = 1; j < chunksPerChannel; j++) {
                partialA[first] += partialA[slot(c, j)];
                partialB[first] += partialB[slot(c, j)];
            }
        }
    }

    // ---- normalization ----

    private void normalizeTask(int task) {
        FaultInjection.at(FaultInjection.Point.CPU_NORMALIZE_TASK);
        if (channelsLast) {
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
        int end = (int) Math.min((long) elementCount(), (long) start + CHUNK);
        for (int p = start; p < end; ) {
            int run = p / spatial;
            int c = run % channels;
            int s = p - run * spatial;
            int len = Math.min(spatial - s, end - p);
            float m = center[c], sc = scale[c], sh = shift[c];
            ElementwisePasses.normalize(x, xo + p, y, yo + p, len, m, sc, sh);
            p += len;
        }
    }

    /** Normalizes all m values of channel c (channels-first). */
    private void normalizeChannel(int c) {
        float m = center[c], sc = scale[c], sh = shift[c];
        int examples = perChannel / spatial;
        for (int n = 0; n < examples; n++) {
            int at = (n * channels + c) * spatial;
            ElementwisePasses.normalize(x, xo + at, y, yo + at, spatial, m, sc, sh);
        }
    }

    private void normalizeRows(int task) {
        int chunk = task / channelBlocks;
        int c0 = channelBlockStart(task);
        int c1 = channelBlockEnd(task);
        int r0 = chunk * rowsPerChunk;
        int r1 = Math.min(rows, r0 + rowsPerChunk);
        ElementwisePasses.normalizeRows(x, xo + r0 * channels, y, yo + r0 * channels, r1 - r0, channels, c0, c1, center,
                scale, shift, shareRowLoads);
    }

    // ---- backward ----

    private void gradientSumsTask(int task) {
        FaultInjection.at(FaultInjection.Point.CPU_GRADIENT_SUMS_TASK);
        if (channelsLast) {
            gradientSumsRows(task);
        } else {
            gradientSumsChannelChunk(task);
        }
    }

    private void gradientSumsChannelChunk(int task) {
        int c = task / chunksPerChannel;
        int start = (task % chunksPerChannel) * CHUNK;
        int end = Math.min(perChannel, start + CHUNK);
        partialA[task] = 0;
        partialB[task] = 0;
        int stride = channels * spatial;
        float k = x[xo + firstIndex(c, start)];
        for (int p = start; p < end; ) {
            int n = p / spatial;
            int s = p - n * spatial;
            int len = Math.min(spatial - s, end - p);
            int runs = s == 0 && len == spatial ? (end - p) / spatial : 1;
            int at = (n * channels + c) * spatial + s;
            RunSums.gradientSums(dy, dyo + at, x, xo + at, len, runs, stride, k, partialA, partialB, task);
            p += runs * len;
        }
        // sum(dy * (x - mean)) = sum(dy * (x - k)) + (k - mean) * sum(dy)
        partialB[task] += (k - state.savedMean[c]) * partialA[task];
    }

    /** A fused backward task over the same values as {@link #fusedStatisticsTask}: sums, coefficients, dx. */
    private void fusedGradientTask(int task) {
        FaultInjection.at(FaultInjection.Point.CPU_GRADIENT_SUMS_TASK);
        if (channelsLast) {
            gradientSumsRows(task);
            finishGradient(channelBlockStart(task), channelBlockEnd(task));
            gradientApplyRows(task);
        } else {
            int c = task;
            for (int j = 0; j < chunksPerChannel; j++) {
                gradientSumsChannelChunk(c * chunksPerChannel + j);
            }
            finishGradient(c, c + 1);
            gradientApplyChannel(c);
        }
    }

    /** Channels-last gradient sums, in float lanes per channel folded into fp64 as in {@link #statisticsRows}. */
    private void gradientSumsRows(int task) {
        int chunk = task / channelBlocks;
        int c0 = channelBlockStart(task);
        int c1 = channelBlockEnd(task);
        int r0 = chunk * rowsPerChunk;
        int r1 = Math.min(rows, r0 + rowsPerChunk);
        int slot = chunk * channels;
        float[] k = rowShift;
        float[] fs = rowSum;
        float[] fq = rowSquares;
        int first = xo + r0 * channels;
        for (int c = c0; c < c1; c++) {
            k[slot + c] = x[first + c];
            partialA[slot + c] = 0;
            partialB[slot + c] = 0;
            fs[slot + c] = 0;
            fq[slot + c] = 0;
        }
        for (int r = r0; r < r1; ) {
            int stop = Math.min(r1, r + GRADIENT_ROWS_PER_FOLD);
            ElementwisePasses.accumulateGradientRows(dy, dyo + r * channels, x, xo + r * channels, stop - r, channels,
                    k, fs, fq, slot, c0, c1);
            r = stop;
            ElementwisePasses.foldLanes(fs, fq, partialA, partialB, slot + c0, slot + c1); // and zeroes the lanes
        }
        for (int c = c0; c < c1; c++) {
            // sum(dy * (x - mean)) = sum(dy * (x - k)) + (k - mean) * sum(dy)
            partialB[slot + c] += (k[slot + c] - state.savedMean[c]) * partialA[slot + c];
        }
    }

    private void gradientApplyTask(int task) {
        FaultInjection.at(FaultInjection.Point.CPU_GRADIENT_APPLY_TASK);
        if (channelsLast) {
            gradientApplyRows(task);
        } else {
            gradientApplyMemoryChunk(task);
        }
    }

    /** dx for values [task * CHUNK, (task + 1) * CHUNK) of channels-first memory, in memory order. */
    private void gradientApplyMemoryChunk(int task) {
        int start = task * CHUNK;
        int end = (int) Math.min((long) elementCount(), (long) start + CHUNK);
        for (int p = start; p < end; ) {
            int run = p / spatial;
            int c = run % channels;
            int s = p - run * spatial;
            int len = Math.min(spatial - s, end - p);
            float m = center[c], k = scale[c], kc = centeredScale[c], k0 = shift[c];
            ElementwisePasses.gradientApply(dy, dyo + p, x, xo + p, y, yo + p, len, m, k, kc, k0);
            p += len;
        }
    }

    /** dx for all m values of channel c (channels-first). */
    private void gradientApplyChannel(int c) {
        float m = center[c], k = scale[c], kc = centeredScale[c], k0 = shift[c];
        int examples = perChannel / spatial;
        for (int n = 0; n < examples; n++) {
            int at = (n * channels + c) * spatial;
            ElementwisePasses.gradientApply(dy, dyo + at, x, xo + at, y, yo + at, spatial, m, k, kc, k0);
        }
    }

    private void gradientApplyRows(int task) {
        int chunk = task / channelBlocks;
        int c0 = channelBlockStart(task);
        int c1 = channelBlockEnd(task);
        int r0 = chunk * rowsPerChunk;
        int r1 = Math.min(rows, r0 + rowsPerChunk);
        int o = r0 * channels;
        ElementwisePasses.gradientApplyRows(dy, dyo + o, x, xo + o, y, yo + o, r1 - r0, channels, c0, c1, center,
                scale, centeredScale, shift, gradientCoefficients, shareRowLoads);
    }

    // ---- geometry helpers ----

    /** Channels-last: the first channel of a task's block. */
    private int channelBlockStart(int task) {
        return (task % channelBlocks) * channelBlock;
    }

    /** Channels-last: one past the last channel of a task's block. */
    private int channelBlockEnd(int task) {
        return Math.min(channels, channelBlockStart(task) + channelBlock);
    }

    /** Offset of value p (0 &lt;= p &lt; m) of channel c in channels-first memory. */
    private int firstIndex(int c, int p) {
        int n = p / spatial;
        return (n * channels + c) * spatial + (p - n * spatial);
    }

    /** Channels-first: all values of the tensor (N*C*H*W). */
    private int elementCount() {
        return perChannel * channels;
    }

    private int slot(int c, int j) {
        return channelsLast ? j * channels + c : c * chunksPerChannel + j;
    }

    private int firstSlot(int c) {
        return slot(c, 0);
    }

    private static int ceilDiv(int a, int b) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }

    private void ensurePartials(long count) {
        if (partialA.length < count) {
            int size = Math.toIntExact(count);
            partialA = new double[size];
            partialB = new double[size];
            rowShift = new float[size];
            rowSum = new float[size];
            rowSquares = new float[size];
        }
    }

    private void ensureChannels(int c) {
        if (batchMean.length < c) {
            inferenceCoefficientsOf = null;
            batchMean = new double[c];
            batchVar = new double[c];
            invStd = new float[c];
            center = new float[c];
            scale = new float[c];
            shift = new float[c];
            centeredScale = new float[c];
            gradientCoefficients = new float[ElementwisePasses.packedGradientLength(c)];
        }
    }
}

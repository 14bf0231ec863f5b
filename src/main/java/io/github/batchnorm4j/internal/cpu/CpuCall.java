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
import io.github.batchnorm4j.internal.LayerState;

/**
 * One CPU call: its plan (how the shape is cut into tasks, from the shape alone, so results are
 * bitwise the same for any thread count), its arguments, and the layer's scratch memory, which
 * grows to the largest shape seen and is reused. {@link CpuStatistics}, {@link CpuNormalize} and
 * {@link CpuBackward} run their tasks on it; {@link #runTasks} hands them to the pool.
 */
final class CpuCall {
    private final WorkerPool pool;

    // Geometry of the current call, derived from its shape alone.
    boolean channelsLast;
    int channels;
    int spatial;        // channels-first: H*W
    int perChannel;     // m
    int chunksPerChannel; // channels-first
    int rows;           // channels-last: N*H*W
    int rowsPerChunk;
    int rowChunks;
    int channelBlock;
    int channelBlocks;
    int tasks;
    int elementwiseTasks; // tasks of passes that need no statistics: memory order, CHUNK values each

    boolean fused; // one task per channel (block) sums, finishes and normalizes (or applies dx)
    boolean shareRowLoads; // channels-last: rows in cache or cut into blocks, so 4 per coefficient load
    boolean parallel;

    // Arguments of the current call.
    LayerState state;
    float[] x;
    int xo;
    float[] y;
    int yo;
    float[] dy;
    int dyo;

    // Scratch, grown to the largest call seen.
    double[] partialA = new double[0];
    double[] partialB = new double[0];
    float[] rowShift = new float[0];   // channels-last: each chunk's shift per channel
    float[] rowSum = new float[0];     // channels-last: float lanes, one per channel
    float[] rowSquares = new float[0];
    double[] batchMean = new double[0];
    double[] batchVar = new double[0];
    float[] invStd = new float[0];
    /** Whether this call is a training forward with Batch Renormalization; its r and d per channel. */
    boolean renormalize;
    float[] renormR = new float[0];
    float[] renormD = new float[0];

    /**
     * Each channel's mean rounded to float. x - center is exact for x near the mean, which keeps
     * data with a large mean precise; what the rounding dropped, mean - center, is folded into
     * shift in double, so the loops load one coefficient array fewer (design.md, 'Mean remainder folded into the shift').
     */
    float[] center = new float[0];
    float[] scale = new float[0];
    float[] shift = new float[0];
    float[] centeredScale = new float[0];

    /** center, scale, centeredScale and shift of each channel, packed for the dx vector loop. */
    float[] gradientCoefficients = new float[0];

    /**
     * Which layer state and parameters version center..shift were last filled from for inference;
     * null when a training forward or backward has overwritten them since. Lets repeated inference
     * skip the per-channel set-up, which dominates single-example calls.
     */
    LayerState inferenceCoefficientsOf;
    long inferenceCoefficientsVersion;

    CpuCall(WorkerPool pool) {
        this.pool = pool;
    }

    // ---- call set-up ----

    /**
     * Takes the call's arguments and its geometry. {@code reduces}: the call sums over the batch
     * (training, backward, or inference without running statistics), so channels-last work may be
     * cut into all-rows blocks of channels that fuse; a plain normalization keeps row chunks, whose
     * long row segments it streams faster.
     */
    void begin(LayerState state, Shape shape, float[] x, int xOffset, float[] y, int yOffset,
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
            // step in the finish (design.md, 'Chunks per block of channels').
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
            // coefficient loads (design.md, 'Short rows one at a time', 'Channels-last whole rows in one loop').
            shareRowLoads = fused || channelBlock < channels;
            ensurePartials((long) rowChunks * channels);
        } else {
            spatial = Math.toIntExact(shape.spatialSize());
            chunksPerChannel = ceilDiv(perChannel, CHUNK);
            tasks = Math.multiplyExact(channels, chunksPerChannel);
            elementwiseTasks = Math.toIntExact((shape.elementCount() - 1) / CHUNK + 1);
            // A channel's values read for its sums are still in this core's cache when it normalizes
            // them, so x crosses the memory bus once. Backward keeps x and dy, up to twice as much:
            // what overflows L2 is re-read from L3, still cheaper than memory (design.md, 'Backward fuses too').
            fused = perChannel <= FUSED_CHANNEL_VALUES;
            ensurePartials(tasks);
        }
        parallel = shape.elementCount() >= PARALLEL_MIN_ELEMENTS;
        ensureChannels(channels);
    }

    void end() {
        state = null;
        x = y = dy = null;
    }

    void runTasks(WorkerPool.Job job) {
        runTasks(tasks, job);
    }

    void runTasks(int count, WorkerPool.Job job) {
        if (parallel) {
            pool.run(count, job);
        } else {
            for (int t = 0; t < count; t++) {
                job.run(t);
            }
        }
    }

    /**
     * Tasks of the fused jobs: one per channel (channels-first), or one per block of channels
     * (channels-last, all rows in one chunk). Each does the same arithmetic, in the same order, as
     * the unfused jobs, so fusing changes the speed and never a bit of the result.
     */
    int fusedTasks() {
        return channelsLast ? tasks : channels;
    }

    /**
     * Tasks that turn the chunk partials into per-channel results, {@link CpuTuning#FINISH_CHANNELS}
     * channels each: with thousands of channels (NC (256,4096)) that work was a third of a training
     * step when the caller did it alone.
     */
    int finishTasks() {
        return ceilDiv(channels, FINISH_CHANNELS);
    }

    /**
     * Adds the chunk partial sums of channels [c0, c1), in chunk order, into each channel's first
     * slot. Channels-last partials lie chunk by chunk, so that layout walks them in memory order.
     */
    void sumChunkPartials(int c0, int c1) {
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

    // ---- geometry helpers ----

    /** Channels-last: the first channel of a task's block. */
    int channelBlockStart(int task) {
        return (task % channelBlocks) * channelBlock;
    }

    /** Channels-last: one past the last channel of a task's block. */
    int channelBlockEnd(int task) {
        return Math.min(channels, channelBlockStart(task) + channelBlock);
    }

    /** Offset of value p (0 &lt;= p &lt; m) of channel c in channels-first memory. */
    int firstIndex(int c, int p) {
        int n = p / spatial;
        return (n * channels + c) * spatial + (p - n * spatial);
    }

    /** Channels-first: all values of the tensor (N*C*H*W). */
    int elementCount() {
        return perChannel * channels;
    }

    int slot(int c, int j) {
        return channelsLast ? j * channels + c : c * chunksPerChannel + j;
    }

    int firstSlot(int c) {
        return slot(c, 0);
    }

    static int ceilDiv(int a, int b) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }

    void ensurePartials(long count) {
        if (partialA.length < count) {
            int size = Math.toIntExact(count);
            partialA = new double[size];
            partialB = new double[size];
            rowShift = new float[size];
            rowSum = new float[size];
            rowSquares = new float[size];
        }
    }

    void ensureChannels(int c) {
        if (batchMean.length < c) {
            inferenceCoefficientsOf = null;
            batchMean = new double[c];
            batchVar = new double[c];
            invStd = new float[c];
            renormR = new float[c];
            renormD = new float[c];
            center = new float[c];
            scale = new float[c];
            shift = new float[c];
            centeredScale = new float[c];
            gradientCoefficients = new float[BackwardLoops.packedGradientLength(c)];
        }
    }

    /** Lets go of the scratch memory: a closed layer keeps only its C-sized state. */
    void release() {
        inferenceCoefficientsOf = null;
        partialA = partialB = batchMean = batchVar = new double[0];
        rowShift = rowSum = rowSquares = invStd = center = scale = shift = centeredScale = new float[0];
        gradientCoefficients = new float[0];
    }
}

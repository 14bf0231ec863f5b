package io.github.batchnorm4j.internal.cpu;

/**
 * The sizes that shape the CPU path's work split, in one place. Results never depend on them
 * through the thread count, only through these constants, which are fixed.
 */
final class CpuTuning {
    private CpuTuning() {
    }

    /**
     * Values per chunk: 256 KiB of floats, a quarter of a 1 MiB L2, so that a chunk read once from
     * memory for its statistics is still in cache when it is normalized (x crosses the bus once).
     */
    static final int CHUNK = 1 << 16;

    /**
     * Most values of one channels-first channel that one task sums and then normalizes while they
     * are still in its core's cache: 512 KiB of floats, half of a 1 MiB L2 (backward holds x and
     * dy, the whole L2). Larger channels take three passes over memory instead of two.
     */
    static final int FUSED_CHANNEL_VALUES = 1 << 17;

    /**
     * Narrowest block of channels a channels-last task takes all rows of (few rows, many channels):
     * each row's segment is then at least 256 bytes.
     */
    static final int MIN_COLUMN_BLOCK = 64;

    /** How many such all-rows tasks a call aims at, so that every thread gets some. */
    static final int COLUMN_TASKS = 16;

    /** Channels per task when chunk partials become per-channel statistics or gradient coefficients. */
    static final int FINISH_CHANNELS = 256;

    /** Widest block of channels one channels-last task covers, so its accumulators stay in L1. */
    static final int CHANNEL_BLOCK = 1024;

    /**
     * Most partial statistics kept per merge (doubles per array): bounds scratch memory for very
     * wide channels-last inputs by making row chunks longer.
     */
    static final int MAX_PARTIALS = 1 << 20;

    /** Below this many elements one thread does it all: waking a worker costs more than it saves. */
    static final long PARALLEL_MIN_ELEMENTS = 1 << 15;
}

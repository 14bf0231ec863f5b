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

    /**
     * The row width that splits the channels-last loops (design.md, 'Sums loop choice').
     * <ul>
     * <li>Normalize: whole rows back to back at least this long go one row at a time in one loop
     * over all their values (a loop per row of 512 or 1024 channels streamed up to 1.6x slower,
     * 'Channels-last whole rows in one loop'); shorter rows keep the one-row loop, as fast there ('Channels-last whole rows in one loop').
     * <li>Sums (statistics and gradients alike): segments of exactly 64 channels keep all their
     * lanes in registers ('Rows of 64 in registers'). Wider statistics segments of rows at most this long do so
     * one column of 64 channels at a time ('Columns of 64'; for gradient sums that made the dx pass
     * after them slower, so they keep the loops below).
     * <li>Statistics segments at least this wide in longer rows take 8 rows per load of their
     * lanes ('Eight rows per load'); whole rows of at least this many channels take their gradient sums in
     * one loop over all their values ('Whole-row gradient sums'); anything else the 4-row loops.
     * </ul>
     */
    static final int LONG_ROW = 256;

    /**
     * Whether channels [c0, c1) of rows of this stride are whole rows, back to back, in whole
     * vectors (the vector loops' width is {@link RunSums#LANES}), as the one-loop methods need.
     */
    static boolean wholeRows(int stride, int c0, int c1) {
        return c0 == 0 && c1 == stride && stride % RunSums.LANES == 0;
    }
}

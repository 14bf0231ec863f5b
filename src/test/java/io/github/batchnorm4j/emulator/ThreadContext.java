package io.github.batchnorm4j.emulator;

/**
 * One CUDA thread of a resident block: its registers, its program counter, and whether it can
 * run, waits at bar.sync, waits at a warp collective (shfl.sync, vote.sync) or has exited.
 * Reused for the next block once its block finishes.
 */
final class ThreadContext {
    static final int RUNNABLE = 0;
    static final int AT_BARRIER = 1;
    static final int AT_COLLECTIVE = 2;
    static final int EXITED = 3;

    final long[] regs;
    /** The thread's .local memory (cleared when a block starts). */
    final byte[] local;
    /** Per global-memory instruction: how many times this thread has executed it (statistics). */
    final int[] memoryCounts;
    int pc;
    int state;
    /** Linear index in the block (x fastest), its lane and warp, and (x, y, z). */
    int linear;
    int lane;
    int warp;
    int x;
    int y;
    int z;
    /** The membermask it waits with at a collective. */
    int collectiveMask;

    ThreadContext(int registerSlots, int memorySlots, int localBytes) {
        regs = new long[registerSlots];
        local = new byte[localBytes];
        memoryCounts = new int[memorySlots];
    }

    String coordinates() {
        return "(" + x + "," + y + "," + z + ")";
    }
}

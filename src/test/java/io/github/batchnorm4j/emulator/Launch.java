package io.github.batchnorm4j.emulator;

/**
 * The state of one kernel launch: configuration, memories, per-instruction execution counts,
 * the instruction budget, and the executor the scheduler drives.
 */
final class Launch {
    final PtxKernel kernel;
    final int[] grid;
    final int[] block;
    final int dynamicShared;
    final int sharedBytes;
    final int threadsPerBlock;
    final int blockCount;
    final long[] counts;
    final Executor executor;
    private final long budget;
    private long executed;

    Launch(PtxKernel kernel, int[] grid, int[] block, int dynamicShared, byte[] parameters, GlobalMemory memory,
           long budget) {
        this.kernel = kernel;
        this.grid = grid.clone();
        this.block = block.clone();
        this.dynamicShared = dynamicShared;
        this.sharedBytes = kernel.shared.totalBytes(dynamicShared);
        this.threadsPerBlock = block[0] * block[1] * block[2];
        this.blockCount = Math.toIntExact((long) grid[0] * grid[1] * grid[2]);
        this.counts = new long[kernel.code.length];
        this.budget = budget;
        this.executor = new Executor(kernel, counts, new MemoryAccess(memory, parameters));
    }

    /** Runs {@code t} for up to {@code slice} instructions and hands its stop to its block. */
    void run(BlockExecution b, ThreadContext t, int slice) {
        long left = budget - executed;
        if (left <= 0) {
            throw Faults.at("interpreter", kernel, b.instructionAt(t), b, t, "the launch ran past its budget of "
                    + budget + " instructions (an endless loop?)");
        }
        int reason = executor.run(b, t, (int) Math.min(slice, left));
        executed += executor.executed;
        b.stopped(t, reason);
    }

    long executed() {
        return executed;
    }
}

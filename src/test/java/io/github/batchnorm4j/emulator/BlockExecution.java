package io.github.batchnorm4j.emulator;

/**
 * One resident block: its threads, shared memory and request statistics, and the waits of its
 * threads. bar.sync releases when every thread of the block waits at it (at the same bar.sync
 * instruction); a thread that exits while others wait at a barrier, or a barrier reached while a
 * thread has exited, can never complete, so it is a synccheck fault rather than a hang. Warp
 * collectives release when every lane their membermask names waits at the same instruction.
 */
final class BlockExecution {
    /** The launch this block state serves now (blocks are pooled between launches). */
    Launch launch;
    final int[] blockDim;
    final ThreadContext[] threads;
    final SharedMemory shared;
    final RequestCoalescer requests;
    final int warps;
    final int[] warpRunnable;
    final int[] warpCollective;
    /** Per warp: the lanes that exist (a last partial warp has fewer) and those that have exited. */
    final int[] warpLanes;
    final int[] warpExited;
    final int[] index = new int[3];
    /** Scratch for a shuffle: every lane's source value is read before any is written. */
    final long[] shuffleValues = new long[32];
    /**
     * Set for a block state new to a launch: its registers get the kernel's template (immediates,
     * zeros) before its first block. Later blocks of the launch keep the registers the previous
     * block left (only special registers are rewritten), as a GPU leaves them undefined: a launch
     * is reproducible, and copying kilobytes of registers per thread per block is avoided.
     */
    boolean freshLaunch = true;
    int linear;
    int live;
    int runnable;
    private int atBarrier;

    BlockExecution(Launch launch) {
        this.launch = launch;
        this.blockDim = launch.block.clone();
        PtxKernel kernel = launch.kernel;
        int n = launch.threadsPerBlock;
        threads = new ThreadContext[n];
        for (int i = 0; i < n; i++) {
            ThreadContext t = new ThreadContext(kernel.registerTemplate.length, kernel.globalMemorySlots,
                    kernel.localBytes);
            t.linear = i;
            t.lane = i & 31;
            t.warp = i >>> 5;
            t.x = i % launch.block[0];
            t.y = i / launch.block[0] % launch.block[1];
            t.z = i / (launch.block[0] * launch.block[1]);
            threads[i] = t;
        }
        warps = (n + 31) >>> 5;
        warpRunnable = new int[warps];
        warpCollective = new int[warps];
        warpLanes = new int[warps];
        warpExited = new int[warps];
        for (int w = 0; w < warps; w++) {
            int lanes = Math.min(32, n - 32 * w);
            warpLanes[w] = lanes == 32 ? -1 : (1 << lanes) - 1;
        }
        shared = new SharedMemory(launch.sharedBytes, blockDim);
        requests = new RequestCoalescer(warps, kernel.globalMemorySlots);
    }

    /** Takes up block {@code blockLinear} of the grid: nothing waiting, special registers set. */
    void start(int blockLinear) {
        linear = blockLinear;
        int[] grid = launch.grid;
        index[0] = blockLinear % grid[0];
        index[1] = blockLinear / grid[0] % grid[1];
        index[2] = blockLinear / (grid[0] * grid[1]);
        PtxKernel kernel = launch.kernel;
        long[] template = kernel.registerTemplate;
        int[] coordinates = new int[3];
        boolean copyTemplate = freshLaunch;
        freshLaunch = false;
        for (ThreadContext t : threads) {
            if (copyTemplate) {
                System.arraycopy(template, 0, t.regs, 0, template.length);
            }
            coordinates[0] = t.x;
            coordinates[1] = t.y;
            coordinates[2] = t.z;
            for (int s = 0; s < kernel.specials.length; s++) {
                t.regs[kernel.specialSlots[s]] = kernel.specials[s].value(coordinates, t.linear, index,
                        launch.block, grid, launch.dynamicShared, launch.sharedBytes);
            }
            java.util.Arrays.fill(t.memoryCounts, 0);
            java.util.Arrays.fill(t.local, (byte) 0);
            t.pc = 0;
            t.state = ThreadContext.RUNNABLE;
        }
        live = threads.length;
        runnable = threads.length;
        atBarrier = 0;
        for (int w = 0; w < warps; w++) {
            warpRunnable[w] = Math.min(32, threads.length - 32 * w);
            warpCollective[w] = 0;
            warpExited[w] = 0;
        }
        shared.startBlock();
    }

    boolean finished() {
        return live == 0;
    }

    String coordinates() {
        return "(" + index[0] + "," + index[1] + "," + index[2] + ")";
    }

    Instruction instructionAt(ThreadContext t) {
        return launch.kernel.code[t.pc];
    }

    /** Called after {@link Executor#run} returned {@code reason} for {@code t}. */
    void stopped(ThreadContext t, int reason) {
        switch (reason) {
            case Executor.STOP_BARRIER: arriveAtBarrier(t); break;
            case Executor.STOP_COLLECTIVE: WarpCollectives.arrive(this, t); break;
            case Executor.STOP_EXIT: exit(t); break;
            default: break;
        }
    }

    void suspend(ThreadContext t, int state) {
        t.state = state;
        runnable--;
        warpRunnable[t.warp]--;
    }

    void resume(ThreadContext t) {
        t.pc++;
        t.state = ThreadContext.RUNNABLE;
        runnable++;
        warpRunnable[t.warp]++;
    }

    private void arriveAtBarrier(ThreadContext t) {
        suspend(t, ThreadContext.AT_BARRIER);
        atBarrier++;
        if (live < threads.length) {
            throw Faults.at("synccheck", launch.kernel, instructionAt(t), this, t, "bar.sync reached after thread "
                    + firstExited().coordinates() + " of the block exited: a barrier must be reached by "
                    + "every thread of the block");
        }
        if (atBarrier < live) {
            return;
        }
        int pc = t.pc;
        for (ThreadContext other : threads) {
            if (other.pc != pc) {
                throw Faults.at("synccheck", launch.kernel, instructionAt(t), this, t, "threads wait at "
                        + "different barriers: thread " + other.coordinates() + " waits at "
                        + instructionAt(other).where());
            }
        }
        shared.barrier();
        atBarrier = 0;
        for (ThreadContext other : threads) {
            resume(other);
        }
    }

    private ThreadContext firstExited() {
        for (ThreadContext other : threads) {
            if (other.state == ThreadContext.EXITED) {
                return other;
            }
        }
        throw new IllegalStateException("no exited thread");
    }

    private void exit(ThreadContext t) {
        suspend(t, ThreadContext.EXITED);
        live--;
        warpExited[t.warp] |= 1 << t.lane;
        if (atBarrier > 0) {
            ThreadContext waiting = null;
            for (ThreadContext other : threads) {
                if (other.state == ThreadContext.AT_BARRIER) {
                    waiting = other;
                    break;
                }
            }
            throw Faults.at("synccheck", launch.kernel, instructionAt(t), this, t, "thread exits while thread "
                    + waiting.coordinates() + " waits at " + instructionAt(waiting).where()
                    + ": a barrier must be reached by every thread of the block");
        }
        if (warpCollective[t.warp] > 0) {
            WarpCollectives.checkExit(this, t);
        }
    }

    /** No thread can run but some have not exited: a deadlock, reported with what each waits for. */
    void reportDeadlock() {
        for (ThreadContext t : threads) {
            if (t.state == ThreadContext.AT_COLLECTIVE) {
                throw WarpCollectives.deadlock(this, t);
            }
        }
        for (ThreadContext t : threads) {
            if (t.state != ThreadContext.EXITED) {
                throw Faults.at("synccheck", launch.kernel, instructionAt(t), this, t, "deadlock: no thread "
                        + "of the block can run");
            }
        }
        throw new IllegalStateException("deadlock without waiting threads");
    }
}

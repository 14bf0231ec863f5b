package io.github.batchnorm4j.emulator;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;

/**
 * Resident-block state (threads with their register files, shared memory, request rings) kept
 * between launches of one kernel, so that the many small launches of a test suite do not each
 * allocate megabytes of registers. Launches from several Java threads each take their own.
 */
final class BlockPool {
    private static final int KEEP = 8;

    private final Deque<BlockExecution> idle = new ArrayDeque<>();

    /** A block state for {@code launch}: a pooled one of the same shape, or a new one. */
    synchronized BlockExecution take(Launch launch) {
        for (Iterator<BlockExecution> it = idle.iterator(); it.hasNext(); ) {
            BlockExecution b = it.next();
            if (Arrays.equals(b.blockDim, launch.block) && b.shared.size() == launch.sharedBytes) {
                it.remove();
                b.launch = launch;
                b.freshLaunch = true;
                return b;
            }
        }
        return new BlockExecution(launch);
    }

    synchronized void give(BlockExecution b) {
        b.launch = null;
        idle.addFirst(b);
        while (idle.size() > KEEP) {
            idle.removeLast();
        }
    }
}

package io.github.batchnorm4j;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/** Java-heap bytes a step allocates on the calling thread, measured after warm-up. */
final class Allocation {
    private Allocation() {
    }

    /**
     * The median over 15 rounds of the bytes allocated by 20 runs of {@code step}, after 300
     * warm-up runs (scratch grows, code compiles). The median ignores a round that a JIT or GC
     * thread's bookkeeping happened to touch.
     */
    static long medianBytes(Runnable step) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 300; i++) {
            step.run();
        }
        long[] rounds = new long[15];
        for (int r = 0; r < rounds.length; r++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 20; i++) {
                step.run();
            }
            rounds[r] = threads.getCurrentThreadAllocatedBytes() - before;
        }
        Arrays.sort(rounds);
        return rounds[rounds.length / 2];
    }
}

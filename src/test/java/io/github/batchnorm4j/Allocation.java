package io.github.batchnorm4j;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/** Java-heap bytes a step allocates on the calling thread, measured after warm-up. */
final class Allocation {
    private Allocation() {
    }

    /**
     * The median over 15 rounds of the bytes allocated by 20 runs of {@code step}, after 2000
     * warm-up runs (scratch grows, code compiles: Vector API code allocates a box per operation
     * until C2 compiles it, which took about 800 steps of NC (2,1024)). A JIT that deoptimizes and
     * recompiles can stretch that phase, so a non-zero median earns up to four more warm-ups and
     * the smallest median counts: an allocation in the code itself shows in every attempt.
     */
    static long medianBytes(Runnable step) {
        long best = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 5 && best > 0; attempt++) {
            best = Math.min(best, medianAfterWarmUp(step));
        }
        return best;
    }

    private static long medianAfterWarmUp(Runnable step) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 2000; i++) {
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

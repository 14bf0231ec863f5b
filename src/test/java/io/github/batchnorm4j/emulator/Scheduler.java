package io.github.batchnorm4j.emulator;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Drives a launch's blocks to completion in the order a {@link Schedule} asks for, and collects
 * the blocks' request statistics.
 */
final class Scheduler {
    /** Instructions a thread runs before the next thread of its block gets a turn. */
    static final int SLICE = 64;
    private static final int MAX_RESIDENT = 4;

    private final Launch launch;
    long requests;
    long requestBytes;
    long requestSectors;

    Scheduler(Launch launch) {
        this.launch = launch;
    }

    void run(Schedule schedule) {
        if (schedule.isSeeded()) {
            runSeeded(new Random(schedule.seed()));
        } else {
            runInOrder();
        }
    }

    private void runInOrder() {
        BlockExecution b = launch.kernel.blockPool.take(launch);
        for (int blockIndex = 0; blockIndex < launch.blockCount; blockIndex++) {
            b.start(blockIndex);
            ThreadContext[] threads = b.threads;
            while (!b.finished()) {
                if (b.runnable == 0) {
                    b.reportDeadlock();
                }
                for (ThreadContext t : threads) {
                    if (t.state == ThreadContext.RUNNABLE) {
                        launch.run(b, t, SLICE);
                    }
                }
            }
            finish(b);
        }
        launch.kernel.blockPool.give(b);
    }

    private void runSeeded(Random random) {
        int[] order = new int[launch.blockCount];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        int residentLimit = Math.min(order.length, 2 + random.nextInt(MAX_RESIDENT - 1));
        List<BlockExecution> resident = new ArrayList<>();
        List<BlockExecution> idle = new ArrayList<>();
        int next = 0;
        while (next < order.length || !resident.isEmpty()) {
            while (resident.size() < residentLimit && next < order.length) {
                BlockExecution b = idle.isEmpty() ? launch.kernel.blockPool.take(launch)
                        : idle.remove(idle.size() - 1);
                b.start(order[next++]);
                resident.add(b);
            }
            BlockExecution b = resident.get(random.nextInt(resident.size()));
            if (b.finished()) {
                finish(b);
                resident.remove(b);
                idle.add(b);
                continue;
            }
            if (b.runnable == 0) {
                b.reportDeadlock();
            }
            int warp = random.nextInt(b.warps);
            while (b.warpRunnable[warp] == 0) {
                warp = (warp + 1) % b.warps;
            }
            int slice = 1 + random.nextInt(SLICE);
            int first = random.nextInt(32);
            for (int i = 0; i < 32; i++) {
                int index = warp * 32 + ((first + i) & 31);
                if (index < b.threads.length && b.threads[index].state == ThreadContext.RUNNABLE) {
                    launch.run(b, b.threads[index], slice);
                }
            }
        }
        for (BlockExecution b : idle) {
            launch.kernel.blockPool.give(b);
        }
    }

    private void finish(BlockExecution b) {
        RequestCoalescer c = b.requests;
        c.flush();
        requests += c.requests;
        requestBytes += c.bytes;
        requestSectors += c.sectors;
        c.requests = 0;
        c.bytes = 0;
        c.sectors = 0;
    }
}

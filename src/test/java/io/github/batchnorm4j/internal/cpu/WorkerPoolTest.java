package io.github.batchnorm4j.internal.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The pool's contract: each task of a job runs exactly once before {@code run} returns, no task
 * of a finished job runs later (a late worker must not claim tasks of a job it read too late),
 * and a failing task is rethrown to the caller with the pool still usable.
 */
class WorkerPoolTest {
    private static final int JOBS = 20_000;

    @Test
    void everyTaskRunsExactlyOnceAndNeverAfterItsJob() {
        WorkerPool pool = new WorkerPool(3);
        SplittableRandom random = new SplittableRandom(20261121L);
        Deque<AtomicIntegerArray> recent = new ArrayDeque<>();
        for (int j = 0; j < JOBS; j++) {
            int tasks = random.nextInt(2, 40);
            AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
            if (random.nextInt(8) == 0) {
                // now and then a pause, so that workers go through their polling and parking
                long until = System.nanoTime() + random.nextInt(300_000);
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            }
            pool.run(tasks, runs::incrementAndGet);
            for (int t = 0; t < tasks; t++) {
                assertEquals(1, runs.get(t), "job " + j + ", task " + t + " of " + tasks);
            }
            recent.addLast(runs);
            if (recent.size() > 50) {
                recent.removeFirst();
            }
        }
        for (AtomicIntegerArray runs : recent) {
            for (int t = 0; t < runs.length(); t++) {
                assertEquals(1, runs.get(t), "a task of a finished job ran again");
            }
        }
    }

    /**
     * Tickets map onto tasks one to one, and the tickets of one thread's turn (t, t + regions,
     * ...) run one contiguous region of tasks in order, the regions' sizes differing by at most 1.
     */
    @Test
    void ticketsDealContiguousRegionsOfTasks() {
        for (int regions = 1; regions <= 9; regions++) {
            for (int tasks = 0; tasks <= 100; tasks++) {
                String where = tasks + " tasks in " + regions + " regions";
                int smallest = Integer.MAX_VALUE;
                int largest = 0;
                int next = 0; // regions lie in order, each starting where the last ended
                for (int region = 0; region < regions; region++) {
                    int size = 0;
                    for (int ticket = region; ticket < tasks; ticket += regions) {
                        int task = WorkerPool.taskOfTicket(ticket, tasks, regions);
                        assertEquals(next, task, where + ", ticket " + ticket);
                        next++;
                        size++;
                    }
                    smallest = Math.min(smallest, size);
                    largest = Math.max(largest, size);
                }
                assertEquals(tasks, next, where); // so every task ran once: 0, 1, ..., tasks - 1
                assertTrue(largest - smallest <= 1, where + ": region sizes " + smallest + ".." + largest);
            }
        }
    }

    @Test
    void aFailingTaskIsRethrownAndThePoolStillWorks() {
        WorkerPool pool = new WorkerPool(3);
        for (int failing = 0; failing < 30; failing++) {
            int bad = failing;
            IllegalStateException fault = new IllegalStateException("task " + bad + " failed");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> pool.run(30, task -> {
                if (task == bad) {
                    throw fault;
                }
            }));
            assertSame(fault, thrown);
            AtomicIntegerArray runs = new AtomicIntegerArray(30);
            pool.run(30, runs::incrementAndGet);
            for (int t = 0; t < 30; t++) {
                assertEquals(1, runs.get(t), "after the failure of task " + bad + ", task " + t);
            }
        }
    }
}

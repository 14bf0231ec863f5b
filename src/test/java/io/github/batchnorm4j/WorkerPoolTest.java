package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

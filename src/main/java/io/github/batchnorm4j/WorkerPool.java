package io.github.batchnorm4j;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of daemon threads that run the tasks of one job at a time, with no allocation per
 * job (a fork-join pool or a parallel stream allocates task objects on every call).
 *
 * <p>The caller and the workers claim tasks from a shared counter, so a worker that wakes late
 * leaves its tasks to the caller instead of holding the job up. Results never depend on which
 * thread ran a task: callers split work into tasks whose boundaries do not depend on the thread
 * count, and merge task results in task order, so output is bitwise the same for any number of
 * threads. A job submitted while another runs executes on its caller's thread rather than waiting.
 *
 * <p>After a job a worker spins for {@link #SPIN_NANOS} before it parks: a training step submits
 * its jobs microseconds apart, and waking a parked thread takes tens of microseconds, which on
 * small tensors was most of the step (NC (256,4096): WorkerPool.run was the top frame in a JFR
 * profile).
 */
final class WorkerPool {
    /** The body of a job: runs task {@code task}. Implementations are reused, not allocated per job. */
    interface Job {
        void run(int task);
    }

    private static final WorkerPool SHARED = new WorkerPool(defaultThreads());

    /** How long an idle worker polls for the next job before it parks. */
    static final long SPIN_NANOS = 200_000;

    private final Worker[] workers;
    private final int threads;
    private final ReentrantLock busy = new ReentrantLock();
    private final AtomicInteger finishedWorkers = new AtomicInteger();
    private final AtomicInteger nextTask = new AtomicInteger();
    private volatile long generation;
    private Job job; // published by the volatile write of generation
    private int taskCount;

    WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    /** The pool every CPU layer shares, sized by {@code -Dbatchnorm4j.cpu.threads} or the core count. */
    static WorkerPool shared() {
        return SHARED;
    }

    private static int defaultThreads() {
        String property = System.getProperty("batchnorm4j.cpu.threads");
        if (property != null) {
            try {
                return Math.max(1, Integer.parseInt(property.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("batchnorm4j.cpu.threads must be a whole number, got '"
                        + property + "'", e);
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    int threads() {
        return threads;
    }

    /** Runs tasks 0..tasks-1 of {@code body} and returns when all have finished. */
    void run(int tasks, Job body) {
        if (tasks <= 1 || workers.length == 0 || !busy.tryLock()) {
            for (int i = 0; i < tasks; i++) {
                body.run(i);
            }
            return;
        }
        try {
            job = body;
            taskCount = tasks;
            nextTask.set(0);
            finishedWorkers.set(0);
            generation++;
            for (Worker worker : workers) {
                LockSupport.unpark(worker);
            }
            RuntimeException failure = runShare(body, tasks);
            int spins = 0;
            while (finishedWorkers.get() < workers.length) {
                if (++spins < 10_000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            for (Worker worker : workers) {
                if (failure == null && worker.failure != null) {
                    failure = worker.failure;
                }
                worker.failure = null;
            }
            job = null;
            if (failure != null) {
                throw failure;
            }
        } finally {
            busy.unlock();
        }
    }

    private RuntimeException runShare(Job body, int tasks) {
        try {
            for (int i = nextTask.getAndIncrement(); i < tasks; i = nextTask.getAndIncrement()) {
                body.run(i);
            }
            return null;
        } catch (RuntimeException | Error e) {
            return e instanceof RuntimeException r ? r : new IllegalStateException("worker failed", e);
        }
    }

    private final class Worker extends Thread {
        private RuntimeException failure; // read by the caller after finishedWorkers says so

        Worker(int index) {
            super("batchnorm4j-cpu-" + index);
            setDaemon(true);
        }

        @Override
        public void run() {
            long seen = 0;
            while (true) {
                long idleSince = System.nanoTime();
                while (generation == seen && System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                }
                while (generation == seen) {
                    LockSupport.park(this);
                }
                seen = generation;
                failure = runShare(job, taskCount);
                finishedWorkers.incrementAndGet();
            }
        }
    }
}

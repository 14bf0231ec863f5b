package io.github.batchnorm4j.internal.cpu;

import io.github.batchnorm4j.BatchNormProperty;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of daemon threads that run the tasks of one job at a time, with no allocation per
 * job (a fork-join pool or a parallel stream allocates task objects on every call).
 *
 * <p>The caller and the workers claim tasks from a shared ticket, and the caller returns once
 * every task has run: it never waits for a worker that has not woken up, since that worker finds
 * nothing left to claim. Results never depend on which thread ran a task: callers split work
 * into tasks whose boundaries do not depend on the thread count, and merge task results in task
 * order, so output is bitwise the same for any number of threads. A job submitted while another
 * runs executes on its caller's thread rather than waiting.
 *
 * <p>The ticket holds the job's generation next to the next task index, so a worker that wakes
 * a job late can only claim tasks of the job it read: its claim fails once the ticket belongs to
 * a newer job. Jobs are published seqlock style: the generation is odd while job and task count
 * are being written.
 *
 * <p>Tickets are dealt in turn across the threads' regions (see {@link #taskOfTicket}): while
 * the threads claim in turn, each runs one contiguous run of tasks in order, a single stream
 * through memory that the hardware prefetcher follows from task to task. Handed out in order,
 * two threads leapfrogged through neighbouring 256 KiB chunks and restarted their streams at
 * every chunk (design.md, 'Tickets dealt round contiguous regions': NHWC (64,28,28,256) training 4011 -> 3374 us).
 *
 * <p>After a job a worker polls for {@link #SPIN_NANOS} before it parks: a training step submits
 * its jobs microseconds apart, and waking a parked thread takes tens of microseconds, which on
 * small tensors was most of the step (NC (256,4096): WorkerPool.run was the top frame in a JFR
 * profile). Polling yields the processor after {@link #PAUSE_NANOS}, so a worker that shares a
 * core with the caller does not hold the caller off.
 */
public final class WorkerPool {
    /** The body of a job: runs task {@code task}. Implementations are reused, not allocated per job. */
    interface Job {
        void run(int task);
    }

    /** Made at first use, so a bad thread count is an IllegalArgumentException there, not a class-init error. */
    private static volatile WorkerPool shared;

    /** How long an idle worker polls for the next job before it parks. */
    static final long SPIN_NANOS = 200_000;

    /** How long a waiting thread spins on the CPU before it polls with {@link Thread#yield}. */
    static final long PAUSE_NANOS = 20_000;

    private final Worker[] workers;
    private final int threads;
    private final ReentrantLock busy = new ReentrantLock();
    /** Odd while a job is being published; even and new once it may be claimed. */
    private volatile long generation;
    private volatile Job job;
    private volatile int taskCount;
    /** The generation's low 32 bits above the next task index. */
    private final AtomicLong ticket = new AtomicLong();
    private final AtomicInteger completedTasks = new AtomicInteger();
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();

    public WorkerPool(int threads) {
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

    /**
     * The pool every CPU layer shares, sized by {@link BatchNormProperty#CPU_THREADS} or the core
     * count; a bad value throws IllegalArgumentException naming the property, at every call until
     * it is fixed.
     */
    public static WorkerPool shared() {
        WorkerPool pool = shared;
        if (pool == null) {
            synchronized (WorkerPool.class) {
                if (shared == null) {
                    shared = new WorkerPool(
                            BatchNormProperty.CPU_THREADS.positiveIntValue(Runtime.getRuntime().availableProcessors()));
                }
                pool = shared;
            }
        }
        return pool;
    }

    public int threads() {
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
            long published = generation + 2;
            generation = published - 1; // odd: workers wait until the job is whole
            job = body;
            taskCount = tasks;
            completedTasks.set(0);
            failure.set(null);
            ticket.set(tag(published) << 32);
            generation = published;
            for (Worker worker : workers) {
                LockSupport.unpark(worker);
            }
            runClaims(tag(published), body, tasks);
            long waitingSince = System.nanoTime();
            while (completedTasks.get() < tasks) {
                pause(waitingSince);
            }
            job = null;
            RuntimeException failed = failure.getAndSet(null);
            if (failed != null) {
                throw failed;
            }
        } finally {
            busy.unlock();
        }
    }

    /**
     * The task that ticket {@code ticket} of {@code tasks} runs, a bijection on [0, tasks). The
     * tasks are cut into {@code regions} contiguous regions whose sizes differ by at most one, and
     * tickets go round the regions: ticket t runs the (t / regions)-th task of region t % regions.
     */
    static int taskOfTicket(int ticket, int tasks, int regions) {
        int size = tasks / regions;
        int larger = tasks % regions; // the first regions hold one task more
        int region = ticket % regions;
        return region * size + Math.min(region, larger) + ticket / regions;
    }

    private static long tag(long generation) {
        return generation & 0xffff_ffffL;
    }

    /**
     * Claims and runs tasks of the job of generation {@code tag} until none is left. After a
     * failure the remaining tasks are claimed and counted but not run.
     */
    private void runClaims(long tag, Job body, int tasks) {
        while (true) {
            long claim = ticket.get();
            int task = (int) claim;
            if (claim >>> 32 != tag || task >= tasks) {
                return;
            }
            if (!ticket.compareAndSet(claim, claim + 1)) {
                continue;
            }
            if (failure.get() == null) {
                try {
                    body.run(taskOfTicket(task, tasks, threads));
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, e instanceof RuntimeException r ? r
                            : new IllegalStateException("worker failed", e));
                }
            }
            completedTasks.incrementAndGet();
        }
    }

    /** One poll of a wait that began at {@code since}: spin first, then let other threads run. */
    private static void pause(long since) {
        if (System.nanoTime() - since < PAUSE_NANOS) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    private final class Worker extends Thread {
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
                    pause(idleSince);
                }
                while (generation == seen) {
                    LockSupport.park(this);
                }
                long current = generation;
                if ((current & 1) != 0) {
                    Thread.onSpinWait(); // being published
                    continue;
                }
                Job body = job;
                int tasks = taskCount;
                if (generation != current) {
                    continue; // a newer job was published meanwhile
                }
                seen = current;
                if (body != null) { // null: this job is over already
                    runClaims(tag(current), body, tasks);
                }
            }
        }
    }
}

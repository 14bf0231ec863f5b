package io.github.batchnorm4j;

import io.github.batchnorm4j.internal.backends.Backends;
import io.github.batchnorm4j.internal.cpu.RunSums;
import io.github.batchnorm4j.internal.cpu.WorkerPool;

/** What this JVM runs batch-norm layers on: reports for logs and {@code bn4j info}, the same for every layer. */
public final class BatchNormRuntime {
    private BatchNormRuntime() {
    }

    /**
     * The backend that new layers get, and why: {@code cuda: <device>} or {@code cpu: <reason>}.
     * Probes for CUDA once per JVM.
     */
    public static String backendReport() {
        return Backends.describe();
    }

    /**
     * Which implementation of the CPU loops this JVM runs: the Vector API (the JVM was started
     * with {@code --add-modules jdk.incubator.vector}) or the plain-Java twin, with how to get the
     * other. Results are bitwise the same; the speed is not.
     */
    public static String cpuLoopsReport() {
        return RunSums.describe();
    }

    /** Worker threads the CPU path splits each call over ({@link BatchNormProperty#CPU_THREADS}, else the cores). */
    public static int cpuThreads() {
        return WorkerPool.shared().threads();
    }
}

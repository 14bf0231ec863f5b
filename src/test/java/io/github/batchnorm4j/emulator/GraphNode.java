package io.github.batchnorm4j.emulator;

/**
 * One operation a stream capture recorded instead of running, replayed in order by cuGraphLaunch.
 * A node holds what the driver copies at capture time (the kernel's parameter bytes) and what it
 * only refers to (addresses: host memory is read when the graph runs, not when it was captured).
 */
sealed interface GraphNode {
    /** A kernel launch with its geometry and the .param bytes as they were when it was captured. */
    record Kernel(PtxKernel kernel, long gridX, long gridY, long gridZ, long blockX, long blockY, long blockZ,
            long sharedBytes, byte[] parameters) implements GraphNode {
    }

    /** An async copy or memset: for a memset, {@code source} is the byte value (as in EmulatedDriver). */
    record Copy(Transfer kind, long target, long source, long bytes) implements GraphNode {
    }

    /** cuEventRecord: replaying the graph records the event. */
    record EventRecord(long event) implements GraphNode {
    }
}

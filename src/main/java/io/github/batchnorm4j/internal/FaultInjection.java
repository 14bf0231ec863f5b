package io.github.batchnorm4j.internal;

/**
 * The test seam for faults in the middle of a step: the backends call {@link #at} at named points
 * (each CPU task, each device allocation, launch and copy), and a test installs a {@link Hook} that
 * throws, or answers a CUDA error code, at the point it picks. With no hook installed (always, in
 * production) a point costs one volatile read. Package-private: only the library's own tests reach it.
 */
public final class FaultInjection {
    /** Where a fault can be injected. */
    public enum Point {
        CPU_STATISTICS_TASK, CPU_NORMALIZE_TASK, CPU_GRADIENT_SUMS_TASK, CPU_GRADIENT_APPLY_TASK,
        CUDA_ALLOCATION, CUDA_LAUNCH, CUDA_COPY,
        /** Before an accessor's copies of the layer's state between device and host (pull and push). */
        CUDA_STATE_COPY
    }

    /** Decides, at each point reached, whether that point fails. */
    public interface Hook {
        /**
         * Throws to fail a CPU point; for a CUDA point returns the CUresult the driver call is to
         * report instead of being made (0, CUDA_SUCCESS: make the call).
         */
        public int at(Point point);
    }

    private static volatile Hook hook;

    private FaultInjection() {
    }

    public static void install(Hook newHook) {
        hook = newHook;
    }

    public static void clear() {
        hook = null;
    }

    /** A CPU point: throws if the installed hook says so. */
    public static void at(Point point) {
        Hook h = hook;
        if (h != null) {
            h.at(point);
        }
    }

    /** A CUDA point: the error the call is to report without being made, or 0 to make it. */
    public static int cudaResult(Point point) {
        Hook h = hook;
        return h == null ? 0 : h.at(point);
    }
}

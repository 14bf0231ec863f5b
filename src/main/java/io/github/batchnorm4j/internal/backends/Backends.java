package io.github.batchnorm4j.internal.backends;

import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import java.lang.System.Logger.Level;

/**
 * Creates the backend for a new layer as {@link BackendChoice} says, and logs the choice and its
 * reason once per JVM (System.Logger "io.github.batchnorm4j", never stdout).
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("io.github.batchnorm4j");
    private static volatile boolean logged;

    private Backends() {
    }

    public static BatchNormBackend create() {
        BackendChoice choice = BackendChoice.configured();
        if (choice == BackendChoice.CPU) {
            logOnce("cpu", "forced by " + BackendChoice.PROPERTY + " / " + BackendChoice.ENVIRONMENT);
            return new CpuBackend();
        }
        CudaAvailability cuda = CudaAvailability.get();
        if (cuda.available) {
            logOnce("cuda", cuda.reason);
            return new CudaBackend(cuda.context);
        }
        if (choice == BackendChoice.CUDA) {
            throw new IllegalStateException("the cuda backend was forced (" + BackendChoice.PROPERTY + " or "
                    + BackendChoice.ENVIRONMENT + ") but CUDA is unavailable: " + cuda.reason);
        }
        logOnce("cpu", "CUDA is unavailable: " + cuda.reason);
        return new CpuBackend();
    }

    /** What {@link #create()} would choose now, and why, without creating anything. */
    public static String describe() {
        BackendChoice choice = BackendChoice.configured();
        if (choice == BackendChoice.CPU) {
            return "cpu: forced by " + BackendChoice.PROPERTY + " / " + BackendChoice.ENVIRONMENT;
        }
        CudaAvailability cuda = CudaAvailability.get();
        if (cuda.available) {
            return "cuda: " + cuda.reason;
        }
        return (choice == BackendChoice.CUDA ? "none: cuda is forced but unavailable: " : "cpu: CUDA is unavailable: ")
                + cuda.reason;
    }

    private static void logOnce(String backend, String reason) {
        if (!logged) {
            logged = true;
            LOG.log(Level.INFO, "batchnorm4j uses the " + backend + " backend: " + reason);
        }
    }
}

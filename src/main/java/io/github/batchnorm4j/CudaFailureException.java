package io.github.batchnorm4j;

/**
 * A CUDA driver call or kernel launch failed. Carries the driver's error name (such as
 * {@code CUDA_ERROR_OUT_OF_MEMORY}) and the call that returned it. The layer's running statistics,
 * gamma and beta are left as they were before the failed call.
 *
 * <p>Some errors (an illegal address in a kernel, a lost device) leave the CUDA context unusable
 * for the rest of the process; the driver reports those as sticky and every later call fails too.
 */
public final class CudaFailureException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int errorCode;
    private final String errorName;
    private final String call;

    public CudaFailureException(String call, int errorCode, String errorName) {
        super(call + " failed: " + errorName + " (" + errorCode + ")");
        this.call = call;
        this.errorCode = errorCode;
        this.errorName = errorName;
    }

    /** The driver's numeric result, a {@code CUresult} value. */
    public int errorCode() {
        return errorCode;
    }

    /** The driver's name for the error, such as {@code CUDA_ERROR_LAUNCH_FAILED}. */
    public String errorName() {
        return errorName;
    }

    /** The driver call or kernel that failed, such as {@code cuLaunchKernel(bn_statistics_nchw)}. */
    public String call() {
        return call;
    }
}

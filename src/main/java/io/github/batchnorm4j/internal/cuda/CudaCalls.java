package io.github.batchnorm4j.internal.cuda;

import io.github.batchnorm4j.CudaFailureException;
import jcuda.CudaException;
import jcuda.driver.CUresult;

/**
 * Checks the result of every driver call batchnorm4j makes. JCuda returns error codes unless a
 * program turns on its global exceptions; batchnorm4j never changes that switch (it belongs to the
 * application) and handles both: a code is checked here, a {@link CudaException} thrown by JCuda
 * is mapped by {@link #map}. Either way the caller sees a {@link CudaFailureException}.
 */
final class CudaCalls {
    private CudaCalls() {
    }

    /** Throws unless {@code result} is CUDA_SUCCESS. */
    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw failure(call, result);
        }
    }

    /** Throws unless {@code result} is CUDA_SUCCESS; the call's name is {@code call(detail)}. */
    static void check(int result, String call, String detail) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw failure(call + "(" + detail + ")", result);
        }
    }

    static CudaFailureException failure(String call, int result) {
        return new CudaFailureException(call, result, CUresult.stringFor(result));
    }

    /**
     * JCuda's exception (thrown when the application enabled JCuda exceptions) as ours. Its message
     * starts with the error name; the numeric code is recovered from it when it is a known name.
     */
    static CudaFailureException map(CudaException e) {
        String message = e.getMessage() == null ? "" : e.getMessage().trim();
        String name = message.split("\\s+", 2)[0];
        int code = codeOf(name);
        CudaFailureException mapped = new CudaFailureException("a CUDA driver call", code,
                code < 0 ? message : name);
        mapped.initCause(e);
        return mapped;
    }

    private static int codeOf(String name) {
        for (int code = 0; code < 1000; code++) {
            if (CUresult.stringFor(code).equals(name)) {
                return code;
            }
        }
        return -1;
    }
}

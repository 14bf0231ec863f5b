package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;

import io.github.batchnorm4j.internal.FaultInjection;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * One device allocation that grows to the largest size asked of it and is then reused, so
 * steady-state calls allocate nothing on the device. The {@link CUdeviceptr} object stays the same
 * when the allocation grows, so kernel parameters built once from {@link #argument()} stay valid.
 * Close is idempotent.
 */
final class DeviceBuffer implements AutoCloseable {
    private final CUdeviceptr pointer = new CUdeviceptr();
    private final KernelPointer argument = () -> DeviceAddress.of(pointer);
    private long bytes;

    /**
     * The buffer, at least {@code needed} bytes long (contents are not kept when it grows). A
     * buffer that grows first waits for the device, since work still queued on any stream may use
     * the memory it frees; growth is a first call's cost, never steady state's.
     */
    CUdeviceptr atLeast(long needed) {
        if (needed > bytes) {
            if (bytes > 0) {
                CudaCalls.check(cuCtxSynchronize(), "cuCtxSynchronize", "before freeing a buffer that grows");
            }
            close();
            long size = Math.max(needed, 16);
            int result = FaultInjection.cudaResult(FaultInjection.Point.CUDA_ALLOCATION);
            if (result == 0) {
                result = cuMemAlloc(pointer, size);
            }
            CudaCalls.check(result, "cuMemAlloc", size + " bytes");
            bytes = size;
        }
        return pointer;
    }

    /**
     * As {@link #atLeast}, but a new allocation is zeroed on {@code stream}, the stream of the
     * kernel that reads it next, so the zeroing is ordered before that kernel (a synchronous
     * memset would go on the legacy stream, which a non-blocking stream does not wait for). While
     * the buffer does not grow, its contents are the kernels' to keep (a counter that each launch
     * leaves at zero).
     */
    CUdeviceptr zeroedAtLeast(long needed, CUstream stream) {
        if (needed > bytes) {
            atLeast(needed);
            int result = cuMemsetD8Async(pointer, (byte) 0, bytes, stream);
            if (result != 0) {
                close(); // never leave an allocation whose contents are not zero
                CudaCalls.check(result, "cuMemsetD8Async", bytes + " bytes");
            }
        }
        return pointer;
    }

    CUdeviceptr pointer() {
        return pointer;
    }

    /** This buffer as a kernel parameter. */
    KernelPointer argument() {
        return argument;
    }

    @Override
    public void close() {
        if (bytes > 0) {
            bytes = 0;
            CudaCalls.check(cuMemFree(pointer), "cuMemFree");
        }
    }
}

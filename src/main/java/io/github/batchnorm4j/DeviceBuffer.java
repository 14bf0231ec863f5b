package io.github.batchnorm4j;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

import jcuda.driver.CUdeviceptr;

/**
 * One device allocation that grows to the largest size asked of it and is then reused, so
 * steady-state calls allocate nothing on the device. Close is idempotent.
 */
final class DeviceBuffer implements AutoCloseable {
    private final CUdeviceptr pointer = new CUdeviceptr();
    private long bytes;

    /** The buffer, at least {@code needed} bytes long (contents are not kept when it grows). */
    CUdeviceptr atLeast(long needed) {
        if (needed > bytes) {
            close();
            cuMemAlloc(pointer, Math.max(needed, 16));
            bytes = Math.max(needed, 16);
        }
        return pointer;
    }

    CUdeviceptr pointer() {
        return pointer;
    }

    @Override
    public void close() {
        if (bytes > 0) {
            bytes = 0;
            cuMemFree(pointer);
        }
    }
}

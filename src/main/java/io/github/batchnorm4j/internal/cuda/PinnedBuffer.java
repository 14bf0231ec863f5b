package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemHostAlloc;
import static jcuda.driver.JCudaDriver.cuMemHostGetDevicePointer;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * Page-locked host memory that grows to the largest size asked of it: what the host-array calls
 * stage tensors through, because an asynchronous copy from pageable memory (a Java array) is not
 * asynchronous, and what the failure record lives in, mapped into the device's address space so
 * a kernel writes it with no copy. Views are rebuilt only when it grows, so steady state
 * allocates nothing. Close is idempotent; the context must be current.
 */
final class PinnedBuffer implements AutoCloseable {
    private final boolean mapped;
    private Pointer host = new Pointer();
    private FloatBuffer floats;
    private final CUdeviceptr device = new CUdeviceptr();
    private final KernelPointer deviceArgument = () -> DeviceAddress.of(device);
    private long bytes;

    /** @param mapped whether kernels reach it through {@link #devicePointer()} */
    PinnedBuffer(boolean mapped) {
        this.mapped = mapped;
    }

    /** The buffer, at least {@code needed} bytes long (contents are not kept when it grows). */
    PinnedBuffer atLeast(long needed) {
        if (needed > bytes) {
            close();
            long size = Math.max(needed, 64);
            Pointer fresh = new Pointer();
            int flags = mapped ? JCudaDriver.CU_MEMHOSTALLOC_DEVICEMAP : 0;
            CudaCalls.check(cuMemHostAlloc(fresh, size, flags), "cuMemHostAlloc", size + " bytes");
            host = fresh;
            bytes = size;
            floats = fresh.getByteBuffer(0, size).order(ByteOrder.nativeOrder()).asFloatBuffer();
            if (mapped) {
                CudaCalls.check(cuMemHostGetDevicePointer(device, fresh, 0), "cuMemHostGetDevicePointer");
            }
        }
        return this;
    }

    /** The host address, for copies. */
    Pointer host() {
        return host;
    }

    /** The memory as floats from its start (position and limit are the caller's to set). */
    FloatBuffer floats() {
        return floats;
    }

    /** The device address of mapped memory. */
    CUdeviceptr devicePointer() {
        return device;
    }

    /** The device address as a kernel parameter; the object stays the same when the buffer grows. */
    KernelPointer deviceArgument() {
        return deviceArgument;
    }

    /** Copies {@code count} floats of {@code values} from {@code offset} to the start of the buffer. */
    void put(float[] values, int offset, int count) {
        floats.clear();
        floats.put(values, offset, count);
    }

    /** Copies the first {@code count} floats of the buffer into {@code values} from {@code offset}. */
    void get(float[] values, int offset, int count) {
        floats.clear();
        floats.get(values, offset, count);
    }

    @Override
    public void close() {
        if (bytes > 0) {
            bytes = 0;
            floats = null;
            CudaCalls.check(cuMemFreeHost(host), "cuMemFreeHost");
        }
    }
}

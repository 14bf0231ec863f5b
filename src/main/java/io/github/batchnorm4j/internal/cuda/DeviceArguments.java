package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemGetAddressRange;

import io.github.batchnorm4j.Shape;
import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;

/**
 * The checks of a call on caller-owned device memory, made before any launch: a kernel that
 * reads past an allocation is a crash, not an exception. Each failure names the argument.
 */
final class DeviceArguments {
    // Scratch for cuMemGetAddressRange, one per layer (its calls run one at a time), so a call allocates nothing.
    private final CUdeviceptr base = new CUdeviceptr();
    private final long[] size = new long[1];

    static long bytes(Shape shape) {
        return shape.elementCount() * Float.BYTES;
    }

    /**
     * Throws IllegalArgumentException unless {@code pointer} lies in a live device allocation of
     * the current context with at least {@code bytes} bytes from it.
     */
    void checkRange(String name, CUdeviceptr pointer, long bytes, Shape shape) {
        try {
            int result = cuMemGetAddressRange(base, size, pointer);
            if (result != CUresult.CUDA_SUCCESS) {
                throw new IllegalArgumentException(name + " is not a live device allocation of this context ("
                        + CUresult.stringFor(result) + "); was it freed?");
            }
        } catch (CudaException e) {
            throw new IllegalArgumentException(name + " is not a live device allocation of this context ("
                    + e.getMessage() + "); was it freed?", e);
        }
        long available = DeviceAddress.of(base) + size[0] - DeviceAddress.of(pointer);
        if (available < bytes) {
            throw new IllegalArgumentException(name + " has " + available + " bytes from the pointer to the end "
                    + "of its allocation but " + shape + " needs " + bytes);
        }
    }

    /** An output may be its input (the same address) but may not partly overlap it. */
    static void checkNoPartialOverlap(String aName, CUdeviceptr a, String bName, CUdeviceptr b, Shape shape) {
        long start = DeviceAddress.of(a);
        long other = DeviceAddress.of(b);
        long bytes = bytes(shape);
        if (start != other && start < other + bytes && other < start + bytes) {
            throw new IllegalArgumentException(aName + " and " + bName + " partly overlap (" + (other - start)
                    + " bytes apart, " + bytes + " each): use the same pointer for in-place, or separate memory");
        }
    }
}

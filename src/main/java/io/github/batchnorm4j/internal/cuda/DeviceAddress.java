package io.github.batchnorm4j.internal.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * Reads the numeric device address of a {@link CUdeviceptr} (its native pointer plus byte offset),
 * which JCuda keeps protected: a subclass may read those fields of itself, so the address is read
 * from a copy. Used to check that a caller's pointer leaves enough bytes in its allocation.
 */
public final class DeviceAddress extends CUdeviceptr {
    private DeviceAddress(CUdeviceptr pointer) {
        super(pointer);
    }

    public static long of(CUdeviceptr pointer) {
        DeviceAddress copy = new DeviceAddress(pointer);
        return copy.getNativePointer() + copy.getByteOffset();
    }
}

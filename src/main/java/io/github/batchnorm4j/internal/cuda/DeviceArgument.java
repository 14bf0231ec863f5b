package io.github.batchnorm4j.internal.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * A kernel's pointer parameter that can be aimed at a different device allocation before each
 * launch (the layer's own buffer, or a pointer the caller passed in) without allocating: the
 * {@link Pointer} handed to {@code cuLaunchKernel} reads the one-element array at launch time.
 */
final class DeviceArgument {
    private final NativePointerObject[] target = new NativePointerObject[1];
    private final Pointer argument = Pointer.to(target);

    DeviceArgument(CUdeviceptr initial) {
        target[0] = initial;
    }

    void aimAt(CUdeviceptr pointer) {
        target[0] = pointer;
    }

    /** The kernel parameter: a pointer to the device address. */
    Pointer argument() {
        return argument;
    }
}

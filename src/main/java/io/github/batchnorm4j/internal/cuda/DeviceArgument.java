package io.github.batchnorm4j.internal.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A kernel's pointer parameter that can be aimed at a different device allocation before each
 * launch (the layer's own buffer, or a pointer the caller passed in) without allocating: the
 * parameter reads the target's address at launch time.
 */
final class DeviceArgument {
    private CUdeviceptr target;
    private final KernelPointer argument = () -> DeviceAddress.of(target);

    DeviceArgument(CUdeviceptr initial) {
        target = initial;
    }

    void aimAt(CUdeviceptr pointer) {
        target = pointer;
    }

    /** The kernel parameter. */
    KernelPointer argument() {
        return argument;
    }
}

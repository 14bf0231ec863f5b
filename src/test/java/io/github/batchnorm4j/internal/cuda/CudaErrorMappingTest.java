package io.github.batchnorm4j.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.CudaFailureException;
import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

/**
 * The host-side plumbing of the CUDA backend that needs no GPU: error codes and JCuda exceptions
 * mapped to {@link CudaFailureException}, kernel argument lists checked before any launch, device
 * address arithmetic, and the refusal of device pointers on the CPU backend.
 */
class CudaErrorMappingTest {
    @Test
    void aFailedCallCarriesTheDriverErrorName() {
        CudaCalls.check(CUresult.CUDA_SUCCESS, "cuMemAlloc");
        CudaFailureException e = assertThrows(CudaFailureException.class,
                () -> CudaCalls.check(CUresult.CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc", "4096 bytes"));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
        assertEquals(CUresult.CUDA_ERROR_OUT_OF_MEMORY, e.errorCode());
        assertEquals("cuMemAlloc(4096 bytes)", e.call());
        assertEquals("cuMemAlloc(4096 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2)", e.getMessage());
        e = assertThrows(CudaFailureException.class,
                () -> CudaCalls.check(CUresult.CUDA_ERROR_LAUNCH_FAILED, "cuLaunchKernel", "bn_statistics_nchw"));
        assertEquals("cuLaunchKernel(bn_statistics_nchw) failed: CUDA_ERROR_LAUNCH_FAILED (719)", e.getMessage());
    }

    @Test
    void jcudaExceptionsAreMappedWithTheirErrorName() {
        CudaException thrown = new CudaException("CUDA_ERROR_ILLEGAL_ADDRESS");
        CudaFailureException e = CudaCalls.map(thrown);
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", e.errorName());
        assertEquals(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, e.errorCode());
        assertSame(thrown, e.getCause());
        CudaFailureException unknown = CudaCalls.map(new CudaException("something odd happened"));
        assertEquals(-1, unknown.errorCode());
        assertEquals("something odd happened", unknown.errorName());
    }

    @Test
    void kernelArgumentsAreCheckedBeforeAnyLaunch() {
        DeviceArgument x = new DeviceArgument(new CUdeviceptr());
        // bn_backward_apply_nchw: x, dy, dx, params, coefficients and the commit's four pointers; scalars
        // runs, channels, spatial (long), vector (int), the multiplier (long) and log (int) of two
        // divisors, and commit (int)
        KernelPointer p = x.argument();
        KernelCall call = new KernelCall(Kernel.BN_BACKWARD_APPLY_NCHW, new CUfunction(), p, p, p, p, p, p, p, p, p);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> call.arg(1).arg(2));
        assertEquals("bn_backward_apply_nchw scalar argument 0 is a long; given a int", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> call.arg(1L).arg(2L).launch(1, 1, 1, 1, null));
        assertEquals("bn_backward_apply_nchw takes 9 scalar arguments, 2 given", e.getMessage());
        e = assertThrows(IllegalStateException.class,
                () -> call.arg(1L).arg(2L).arg(3L).arg(4).arg(5L).arg(6).arg(7L).arg(8).arg(9).arg(10L));
        assertEquals("bn_backward_apply_nchw takes 9 scalar arguments; given a long beyond them", e.getMessage());
        // a refused call starts over with the first scalar
        assertThrows(IllegalStateException.class, () -> call.arg(1L).arg(2));
        e = assertThrows(IllegalStateException.class, () -> call.arg(1));
        assertEquals("bn_backward_apply_nchw scalar argument 0 is a long; given a int", e.getMessage());
        assertEquals(0, call.launches());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> new KernelCall(Kernel.BN_BACKWARD_APPLY_NCHW, new CUfunction(), x.argument()));
        assertEquals("bn_backward_apply_nchw takes 9 device pointers, 1 given", bad.getMessage());
    }

    @Test
    void deviceAddressesIncludeTheByteOffset() {
        CUdeviceptr base = new CUdeviceptr();
        assertEquals(0, DeviceAddress.of(base));
        assertEquals(24, DeviceAddress.of(base.withByteOffset(24)));
        assertEquals(28, DeviceAddress.of(base.withByteOffset(24).withByteOffset(4)));
    }
}

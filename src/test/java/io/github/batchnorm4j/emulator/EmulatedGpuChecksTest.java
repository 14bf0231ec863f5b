package io.github.batchnorm4j.emulator;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD8;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.TestData;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The global-memory checks of the emulated GPU, end to end through JCuda and the stub driver:
 * each kernel of global_checks.cu has one defect, and the launch must fail with the driver's
 * error code while the emulator names the check, the kernel and the address. The same kernels
 * without the defect must run clean, so the checks are not simply always on.
 */
@Tag(TestData.GPU)
class EmulatedGpuChecksTest {
    private static CUmodule module;

    @BeforeAll
    static void loadModule() throws IOException {
        assertTrue(CudaAvailability.get().available, CudaAvailability.get().reason);
        module = new CUmodule();
        assertEquals(CUresult.CUDA_SUCCESS, cuModuleLoadData(module, ptx("global_checks.ptx")));
    }

    @Test
    void aStorePastTheEndIsAnIllegalAddressNamedByMemcheck() {
        CUdeviceptr p = allocate(64);
        assertClean(launch("store_at", 1, 1, pointer(p), Pointer.to(new long[] {15})));
        List<DeviceFault> faults = faults(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS,
                () -> launch("store_at", 1, 1, pointer(p), Pointer.to(new long[] {16})));
        assertFault(faults, "memcheck", "store_at", "runs 4 bytes past the end of the allocation of 64 bytes");
        cuMemFree(p);
        faults = faults(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS,
                () -> launch("store_at", 1, 1, pointer(p), Pointer.to(new long[] {0})));
        assertFault(faults, "memcheck", "store_at", "use after free");
    }

    @Test
    void aFloat4LoadThroughAMisalignedPointerIsMisaligned() {
        CUdeviceptr in = allocate(64);
        CUdeviceptr out = allocate(16);
        cuMemsetD8(in, (byte) 0, 64);
        assertClean(launch("load_float4", 1, 1, pointer(in), pointer(out)));
        List<DeviceFault> faults = faults(CUresult.CUDA_ERROR_MISALIGNED_ADDRESS,
                () -> launch("load_float4", 1, 1, pointer(in.withByteOffset(4)), pointer(out)));
        assertFault(faults, "memcheck", "load_float4", "misaligned");
        free(in, out);
    }

    @Test
    void readingMemoryNothingWroteIsAnInitcheckDefect() {
        CUdeviceptr in = allocate(4 * 100);
        CUdeviceptr out = allocate(4 * 100);
        cuMemcpyHtoD(in, Pointer.to(new float[99]), 4 * 99); // the last float stays unwritten
        assertClean(launch("copy_floats", 1, 128, pointer(in), pointer(out), Pointer.to(new int[] {99})));
        List<DeviceFault> faults = faults(CUresult.CUDA_ERROR_LAUNCH_FAILED,
                () -> launch("copy_floats", 1, 128, pointer(in), pointer(out), Pointer.to(new int[] {100})));
        assertFault(faults, "initcheck", "copy_floats", "reads byte +396");
        free(in, out);
    }

    @Test
    void twoBlocksWritingOneWordIsARace() {
        CUdeviceptr p = allocate(4);
        assertClean(launch("every_block_writes_one_word", 1, 32, pointer(p)));
        List<DeviceFault> faults = faults(CUresult.CUDA_ERROR_LAUNCH_FAILED,
                () -> launch("every_block_writes_one_word", 2, 32, pointer(p)));
        assertFault(faults, "racecheck", "every_block_writes_one_word", "overwrites a word block 0 wrote");
        cuMemFree(p);
    }

    @Test
    void aBlockOverwritingWhatAnotherReadIsARace() {
        CUdeviceptr p = allocate(4);
        CUdeviceptr out = allocate(4);
        assertEquals(CUresult.CUDA_SUCCESS, cuMemcpyHtoD(p, Pointer.to(new float[] {1}), 4));
        assertClean(launch("other_block_overwrites_a_read", 1, 32, pointer(p), pointer(out)));
        List<DeviceFault> faults = faults(CUresult.CUDA_ERROR_LAUNCH_FAILED,
                () -> launch("other_block_overwrites_a_read", 2, 32, pointer(p), pointer(out)));
        assertFault(faults, "racecheck", "other_block_overwrites_a_read", "overwrites a word block 0 read");
        free(p, out);
    }

    @Test
    void theLastBlockProtocolNeedsItsFence() {
        int blocks = 5;
        CUdeviceptr partial = allocate(4 * blocks);
        CUdeviceptr done = allocate(4);
        CUdeviceptr out = allocate(4);
        cuMemsetD8(done, (byte) 0, 4);
        assertClean(launch("sum_in_last_block", blocks, 32, pointer(partial), pointer(done), pointer(out),
                Pointer.to(new int[] {3})));
        float[] total = new float[1];
        cuMemcpyDtoH(Pointer.to(total), out, 4);
        assertEquals(15f, total[0], "1 + 2 + ... + 5, and the counter was reset for the next launch");
        // Without the writers' release fence, and without the last block's acquire fence after its
        // relaxed atomic: each leaves the partials unordered before the last block's reads.
        for (int fences : new int[] {0, 2, 1}) {
            List<DeviceFault> faults = faults(CUresult.CUDA_ERROR_LAUNCH_FAILED,
                    () -> launch("sum_in_last_block", blocks, 32, pointer(partial), pointer(done), pointer(out),
                            Pointer.to(new int[] {fences})));
            assertFault(faults, "racecheck", "sum_in_last_block", "with no fence and atomic ordering");
            cuMemsetD8(done, (byte) 0, 4); // the faulting launch left the counter part-way
        }
        free(partial, done, out);
    }

    @Test
    void aCopyOutsideEveryAllocationIsRefusedAndRecorded() {
        CUdeviceptr p = allocate(16);
        List<DeviceFault> faults = EmulatedGpu.get().faultsOf(
                () -> assertEquals(CUresult.CUDA_ERROR_INVALID_VALUE, cuMemcpyHtoD(p, Pointer.to(new float[5]), 20)));
        assertFault(faults, "memcheck", "cuMemcpyHtoD", "runs 4 bytes past the end");
        cuMemFree(p);
    }

    // ---- helpers ----

    private static int launch(String kernel, int blocks, int threads, Pointer... arguments) {
        CUfunction function = new CUfunction();
        assertEquals(CUresult.CUDA_SUCCESS, cuModuleGetFunction(function, module, kernel));
        return cuLaunchKernel(function, blocks, 1, 1, threads, 1, 1, 0, null, Pointer.to(arguments), null);
    }

    private static void assertClean(int result) {
        assertEquals(CUresult.CUDA_SUCCESS, result, "the launch without the defect: " + CUresult.stringFor(result));
    }

    private static List<DeviceFault> faults(int expected, java.util.function.IntSupplier launch) {
        int[] result = new int[1];
        List<DeviceFault> faults = EmulatedGpu.get().faultsOf(() -> result[0] = launch.getAsInt());
        assertEquals(CUresult.stringFor(expected), CUresult.stringFor(result[0]), "the driver's answer");
        return faults;
    }

    private static void assertFault(List<DeviceFault> faults, String check, String where, String what) {
        assertEquals(1, faults.size(), "one defect recorded: " + faults);
        DeviceFault fault = faults.get(0);
        assertEquals(check, fault.check(), fault.getMessage());
        assertTrue(fault.getMessage().contains(where) && fault.getMessage().contains(what),
                "the message names '" + where + "' and '" + what + "': " + fault.getMessage());
    }

    private static CUdeviceptr allocate(long bytes) {
        CUdeviceptr p = new CUdeviceptr();
        assertEquals(CUresult.CUDA_SUCCESS, cuMemAlloc(p, bytes));
        return p;
    }

    private static Pointer pointer(CUdeviceptr p) {
        return Pointer.to(p);
    }

    private static void free(CUdeviceptr... pointers) {
        for (CUdeviceptr p : pointers) {
            cuMemFree(p);
        }
    }

    private static String ptx(String name) throws IOException {
        try (InputStream in = EmulatedGpuChecksTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }
}

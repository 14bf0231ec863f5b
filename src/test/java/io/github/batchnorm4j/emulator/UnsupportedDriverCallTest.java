package io.github.batchnorm4j.emulator;

import static jcuda.driver.JCudaDriver.cuCtxGetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetPCIBusId;
import static jcuda.driver.JCudaDriver.cuDeviceGetUuid;
import static jcuda.driver.JCudaDriver.cuGetErrorName;
import static jcuda.driver.JCudaDriver.cuGetErrorString;
import static jcuda.driver.JCudaDriver.cuInit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.TestData;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import jcuda.driver.CUuuid;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JCuda program calling a driver function the emulator does not emulate gets
 * CUDA_ERROR_NOT_SUPPORTED back, and the stub names the function on stderr: before the stub
 * exported every name JCuda imports (libcuda_unsupported.c), the dynamic linker ended the JVM at
 * such a call (exit 127). cuDeviceGetUuid is the example: JCuda passes it straight to the
 * driver's cuDeviceGetUuid, and the emulated device has no UUID.
 */
@Tag(TestData.GPU)
class UnsupportedDriverCallTest {
    private static final String LINE = "emulated driver: cuDeviceGetUuid is not emulated (CUDA_ERROR_NOT_SUPPORTED)";

    @BeforeAll
    static void device() {
        assertTrue(CudaAvailability.get().available, CudaAvailability.get().reason);
        assumeTrue(EmulatedGpu.active(), "tests the emulated driver's fallbacks; a real driver has these functions");
    }

    @Test
    void aCallTheEmulatorLacksReturnsNotSupportedAndTheDriverGoesOn() {
        CUdevice device = device0();
        assertEquals(CUresult.CUDA_ERROR_NOT_SUPPORTED, cuDeviceGetUuid(new CUuuid(), device));
        CUcontext current = new CUcontext();
        assertEquals(CUresult.CUDA_SUCCESS, cuCtxGetCurrent(current));
        assertNotEquals(new CUcontext(), current, "the primary context is still current");
    }

    /**
     * Those whose JCuda wrapper reads the output whatever the result: the fallback leaves it empty.
     * cuGetErrorName and cuGetErrorString had such fallbacks; they are emulated now (ContextCallsTest),
     * and an unknown code still leaves the output empty, as the driver does.
     */
    @Test
    void theFallbacksWhoseOutputJCudaReadsLeaveItEmpty() {
        String[] text = {"unset"};
        assertEquals(CUresult.CUDA_SUCCESS, cuGetErrorName(CUresult.CUDA_ERROR_INVALID_VALUE, text));
        assertEquals("CUDA_ERROR_INVALID_VALUE", text[0]);
        text[0] = "unset";
        assertEquals(CUresult.CUDA_SUCCESS, cuGetErrorString(CUresult.CUDA_ERROR_INVALID_VALUE, text));
        assertEquals("invalid argument", text[0]);
        text[0] = "unset";
        assertEquals(CUresult.CUDA_ERROR_INVALID_VALUE, cuGetErrorName(-5, text));
        assertNull(text[0]);
        String[] busId = {"unset"};
        assertEquals(CUresult.CUDA_ERROR_NOT_SUPPORTED, cuDeviceGetPCIBusId(busId, 16, device0()));
        assertEquals("", busId[0]);
    }

    /** In a JVM of its own, so the exit status and the stub's stderr line can be read. */
    @Test
    void aFreshJvmMakingTheCallRunsOnAndTheStubNamesTheFunction(@TempDir Path temporary)
            throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path err = temporary.resolve("stderr.txt");
        // LD_LIBRARY_PATH, which finds the stub, is this fork's: the child inherits it
        Process process = new ProcessBuilder(java.toString(), "-XX:+UseShenandoahGC", "-cp",
                System.getProperty("java.class.path"), NotEmulatedCall.class.getName())
                .redirectError(err.toFile()).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the JVM making the call did not finish");
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), "exit 127 is the dynamic linker's symbol lookup error; stdout: "
                + out + "; stderr: " + stderr);
        assertTrue(out.contains("cuDeviceGetUuid returned " + CUresult.CUDA_ERROR_NOT_SUPPORTED + "\nstill running"), out);
        assertTrue(stderr.contains(LINE + "\n"), stderr);
    }

    private static CUdevice device0() {
        CUdevice device = new CUdevice();
        assertEquals(CUresult.CUDA_SUCCESS, cuDeviceGet(device, 0));
        return device;
    }

    /** A JCuda program of a few lines: the driver's first device, then its UUID. */
    public static final class NotEmulatedCall {
        public static void main(String[] args) {
            check(cuInit(0), "cuInit");
            CUdevice device = new CUdevice();
            check(cuDeviceGet(device, 0), "cuDeviceGet");
            System.out.println("cuDeviceGetUuid returned " + cuDeviceGetUuid(new CUuuid(), device));
            System.out.println("still running");
        }

        private static void check(int result, String call) {
            if (result != CUresult.CUDA_SUCCESS) {
                System.out.println(call + " failed: " + CUresult.stringFor(result));
                System.exit(2);
            }
        }
    }
}

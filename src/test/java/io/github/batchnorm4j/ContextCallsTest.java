package io.github.batchnorm4j;

import static io.github.batchnorm4j.Tolerance.assertClose;
import static jcuda.driver.JCudaDriver.cuCtxCreate;
import static jcuda.driver.JCudaDriver.cuCtxDestroy;
import static jcuda.driver.JCudaDriver.cuCtxGetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxGetDevice;
import static jcuda.driver.JCudaDriver.cuCtxPopCurrent;
import static jcuda.driver.JCudaDriver.cuCtxPushCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuGetErrorName;
import static jcuda.driver.JCudaDriver.cuGetErrorString;
import static jcuda.driver.JCudaDriver.cuInit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.emulator.EmulatedGpu;
import io.github.batchnorm4j.emulator.programs.VectorAddProgram;
import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.CudaContext;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The driver calls a classic JCuda program starts with: a context of its own (cuCtxCreate,
 * pushed and popped, destroyed at the end) and the error texts. On the emulator the created
 * context is device 0's primary context, and destroying it resets nothing, so batchnorm4j, which
 * shares that context with every test of the fork, runs on afterwards.
 */
@Tag(TestData.GPU)
class ContextCallsTest {
    @BeforeAll
    static void device() {
        assertTrue(CudaAvailability.get().available, CudaAvailability.get().reason);
    }

    @Test
    void aProgramOnAContextOfItsOwnRunsAndTheLibraryRunsOnAfterItDestroysIt() {
        check(cuInit(0), "cuInit");
        CUdevice device = new CUdevice();
        check(cuDeviceGet(device, 0), "cuDeviceGet");
        CUcontext context = new CUcontext();
        check(cuCtxCreate(context, 0, device), "cuCtxCreate");
        try {
            if (EmulatedGpu.active()) {
                CUcontext primary = new CUcontext();
                check(cuDevicePrimaryCtxRetain(primary, device), "cuDevicePrimaryCtxRetain");
                check(cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
                assertEquals(primary, context, "the emulator's one context is the primary one");
            }
            CUcontext current = new CUcontext();
            check(cuCtxGetCurrent(current), "cuCtxGetCurrent");
            assertEquals(context, current, "a created context is current");

            check(cuCtxPushCurrent(context), "cuCtxPushCurrent");
            CUcontext popped = new CUcontext();
            check(cuCtxPopCurrent(popped), "cuCtxPopCurrent");
            assertEquals(context, popped, "pop gives back what was pushed");
            CUdevice ofContext = new CUdevice();
            check(cuCtxGetDevice(ofContext), "cuCtxGetDevice");
            assertEquals(device, ofContext, "the context's device is device 0");

            float[] a = new float[1000];
            float[] b = new float[1000];
            Random random = new Random(11);
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextFloat();
                b[i] = random.nextFloat();
            }
            float[] c = VectorAddProgram.addOnTheCurrentContext(a, b);
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i] + b[i], c[i], "sum " + i);
            }
        } finally {
            check(cuCtxDestroy(context), "cuCtxDestroy");
        }
        if (EmulatedGpu.active()) {
            // cuCtxCreate pushed once, cuCtxDestroy popped it: this thread's stack is empty again
            assertEquals(CUresult.CUDA_ERROR_INVALID_CONTEXT, cuCtxPopCurrent(new CUcontext()));
            CUcontext current = new CUcontext();
            check(cuCtxGetCurrent(current), "cuCtxGetCurrent");
            assertEquals(context, current, "the primary context stays current on the emulator");
        }
        aTrainingForwardOfACudaLayerIsTheCpusAfterwards();
    }

    private static void aTrainingForwardOfACudaLayerIsTheCpusAfterwards() {
        CudaContext cuda = CudaAvailability.get().context;
        cuda.makeCurrent();
        Shape shape = Shape.nchw(3, 5, 4, 4);
        int count = (int) shape.elementCount();
        float[] x = TestData.activations(new Random(count), shape, 50);
        float[] yGpu = new float[count];
        float[] yCpu = new float[count];
        try (BatchNorm gpu = BatchNorm.builder(shape.channels()).build(new CudaBackend(cuda));
                BatchNorm cpu = BatchNorm.builder(shape.channels()).build(new CpuBackend())) {
            gpu.forwardTraining(shape, x, yGpu);
            cpu.forwardTraining(shape, x, yCpu);
            assertClose("cuda vs cpu y after cuCtxDestroy", yCpu, yGpu, 1e-5, 1e-5);
            assertClose("running mean after cuCtxDestroy", cpu.runningMean(), gpu.runningMean(), 1e-5, 1e-6);
        }
    }

    @Test
    void theErrorNamesAreNvidiasAndAnUnknownCodeHasNone() throws IllegalAccessException {
        String[] text = {null};
        assertEquals(CUresult.CUDA_SUCCESS, cuGetErrorName(CUresult.CUDA_ERROR_OUT_OF_MEMORY, text));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", text[0]);
        text[0] = null;
        assertEquals(CUresult.CUDA_SUCCESS, cuGetErrorString(CUresult.CUDA_ERROR_OUT_OF_MEMORY, text));
        assertNotNull(text[0]);
        assertTrue(!text[0].isEmpty(), "a description");
        // the codes JCuda names have the same names from the driver: on the emulator every one of
        // them (the table libcuda_stub.c holds), on a real driver, which may predate some, a few
        List<Integer> codes = new ArrayList<>(List.of(0, 1, 3, 100, 101, 200, 201, 400, 500, 600, 700, 719, 801, 999));
        if (EmulatedGpu.active()) {
            codes.clear();
            for (Field field : CUresult.class.getFields()) {
                if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class
                        && field.getName().startsWith("CUDA_")) {
                    codes.add(field.getInt(null));
                }
            }
            assertTrue(codes.size() > 90, codes.size() + " codes");
        }
        for (int code : codes) {
            text[0] = null;
            assertEquals(CUresult.CUDA_SUCCESS, cuGetErrorName(code, text), "name of code " + code);
            assertEquals(CUresult.stringFor(code), text[0], "code " + code);
            text[0] = null;
            assertEquals(CUresult.CUDA_SUCCESS, cuGetErrorString(code, text), "text of code " + code);
            assertNotNull(text[0], "code " + code);
        }
        text[0] = "unset";
        assertEquals(CUresult.CUDA_ERROR_INVALID_VALUE, cuGetErrorName(12345, text));
        assertNull(text[0]);
        text[0] = "unset";
        assertEquals(CUresult.CUDA_ERROR_INVALID_VALUE, cuGetErrorString(12345, text));
        assertNull(text[0]);
    }

    private static void check(int result, String call) {
        assertEquals(CUresult.CUDA_SUCCESS, result, () -> call + " failed: " + CUresult.stringFor(result));
    }
}

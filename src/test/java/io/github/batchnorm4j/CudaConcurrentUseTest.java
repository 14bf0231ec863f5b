package io.github.batchnorm4j;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.internal.FaultInjection;
import io.github.batchnorm4j.internal.FaultInjection.Point;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.CudaContext;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The single-thread rule on the CUDA backend (emulated here): while one thread's call is inside a
 * layer, every other public method is refused, device-pointer calls and device members included;
 * a close while a getter copies the state from the device frees the device memory only after the
 * copy; and a layer made from a file that fails to take the file's state is closed, its device
 * memory freed. Skipped, with the probe's reason, where no CUDA device works.
 */
@Tag(TestData.GPU)
class CudaConcurrentUseTest {
    private static final Shape SHAPE = Shape.nchw(4, 3, 5, 5);

    @TempDir
    Path folder;
    private CudaContext cuda;

    @BeforeEach
    void requireCuda() {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        cuda = availability.context;
        cuda.makeCurrent();
    }

    @AfterEach
    void clearHook() {
        FaultInjection.clear();
    }

    private BatchNorm layer() {
        return BatchNorm.builder(SHAPE.channels()).batchRenormalization(1, 0).build(new CudaBackend(cuda));
    }

    @Test
    void everyMethodIsRefusedWhileAnotherThreadsCallIsInside() throws Exception {
        float[] x = TestData.activations(new Random(1), SHAPE, 5);
        CUdeviceptr deviceX = new CUdeviceptr(), deviceY = new CUdeviceptr();
        cuMemAlloc(deviceX, 4L * x.length);
        cuMemAlloc(deviceY, 4L * x.length);
        cuMemcpyHtoD(deviceX, Pointer.to(x), 4L * x.length);
        try (BatchNorm layer = layer()) {
            float[] y = new float[x.length];
            layer.forwardTraining(SHAPE, x, y);
            layer.backward(SHAPE, x, x, y);
            Path file = LayerGate.savedState(folder, layer);
            float[] gammaBefore = layer.gamma();
            var calls = LayerGate.everyAccessor(layer, SHAPE, file, true);
            DeviceBatchNorm gpu = layer.device();
            calls.put("DeviceBatchNorm.forwardTraining", () -> gpu.forwardTraining(SHAPE, deviceX, deviceY, null));
            calls.put("DeviceBatchNorm.forwardInference", () -> gpu.forwardInference(SHAPE, deviceX, deviceY, null));
            calls.put("DeviceBatchNorm.backward", () -> gpu.backward(SHAPE, deviceX, deviceX, deviceY, null));

            LayerGate gate = new LayerGate(Point.CUDA_LAUNCH);
            FaultInjection.install(gate);
            CompletableFuture<Void> inside = CompletableFuture.runAsync(() -> {
                cuda.makeCurrent();
                layer.forwardTraining(SHAPE, x, y);
            });
            gate.awaitReached();
            try {
                LayerGate.assertEachRefused(calls);
            } finally {
                gate.release();
            }
            inside.get(60, TimeUnit.SECONDS);
            FaultInjection.clear();
            assertArrayEquals(gammaBefore, layer.gamma(), "a refused setter changed gamma");
        } finally {
            cuMemFree(deviceX);
            cuMemFree(deviceY);
        }
    }

    @Test
    void closeDuringAGetterFreesTheDeviceMemoryAfterItsCopy() throws Exception {
        long freeAtStart = freeDeviceBytes();
        BatchNorm layer = layer();
        float[] gamma = {0.5f, -2f, 3.25f};
        layer.setGamma(gamma);
        LayerGate gate = new LayerGate(Point.CUDA_STATE_COPY);
        FaultInjection.install(gate);
        CompletableFuture<float[]> getter = CompletableFuture.supplyAsync(() -> {
            cuda.makeCurrent();
            return layer.gamma();
        });
        gate.awaitReached();
        layer.close(); // finds the getter inside: the release waits for it
        gate.release();
        assertArrayEquals(gamma, getter.get(60, TimeUnit.SECONDS), "the getter that was inside at close");
        assertEquals(freeAtStart, freeDeviceBytes(), "the closed layer's device memory");
        assertThrows(IllegalStateException.class, layer::gamma);
    }

    /** The k-th copy of state between host and device fails while {@link BatchNorm#fromFile} runs. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void aLayerFromAFileThatFailsToTakeTheStateIsClosed(int failingCopy) throws Exception {
        Path file;
        try (BatchNorm saved = layer()) {
            file = LayerGate.savedState(folder, saved);
        }
        long freeAtStart = freeDeviceBytes();
        AtomicInteger copies = new AtomicInteger();
        FaultInjection.install(point -> point == Point.CUDA_STATE_COPY && copies.incrementAndGet() == failingCopy
                ? CUresult.CUDA_ERROR_ILLEGAL_ADDRESS : 0);
        CudaFailureException error = assertThrows(CudaFailureException.class, () -> BatchNorm.fromFile(file),
                "state copy " + failingCopy + " failed");
        FaultInjection.clear();
        assertEquals(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, error.errorCode(), error.getMessage());
        assertEquals(freeAtStart, freeDeviceBytes(), "device memory after the failed fromFile");
    }

    private long freeDeviceBytes() {
        cuda.makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        assertEquals(CUresult.CUDA_SUCCESS, cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0];
    }
}

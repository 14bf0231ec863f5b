package io.github.batchnorm4j;

import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.emulator.EmulatedGpu;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.CudaContext;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * One layer's calls on different streams share its workspace, so each call that moves to another
 * stream first waits for the previous call's stream (an event), and only then: calls that stay on
 * one stream add nothing. The emulator runs work when it is issued, so it counts the waits the
 * layer asks for rather than showing the race they prevent; the results must still equal one
 * stream's, bit for bit.
 */
@Tag(TestData.GPU)
class CudaStreamHandOffTest {
    private static final Shape SHAPE = Shape.nchw(3, 5, 4, 4);
    private CudaContext cuda;

    @BeforeEach
    void requireEmulator() {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        assumeTrue(EmulatedGpu.active(), "counts cross-stream waits, which only the emulator can");
        cuda = availability.context;
        cuda.makeCurrent();
    }

    private BatchNorm layer() {
        return BatchNorm.builder(SHAPE.channels()).build(new CudaBackend(cuda));
    }

    private static CUstream stream() {
        CUstream stream = new CUstream();
        cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        return stream;
    }

    private static CUdeviceptr device(float[] values) {
        CUdeviceptr pointer = new CUdeviceptr();
        cuMemAlloc(pointer, 4L * values.length);
        cuMemcpyHtoD(pointer, Pointer.to(values), 4L * values.length);
        return pointer;
    }

    private static float[] read(CUdeviceptr pointer, int count) {
        cuCtxSynchronize();
        float[] values = new float[count];
        cuMemcpyDtoH(Pointer.to(values), pointer, 4L * count);
        return values;
    }

    @Test
    void aCallOnAnotherStreamWaitsForThePreviousOneAndOnlyThen() {
        int count = (int) SHAPE.elementCount();
        float[] x = TestData.activations(new Random(9), SHAPE, 30);
        float[] hostY = new float[count], expected = new float[count];
        CUdeviceptr dX = device(x), dY = device(new float[count]);
        CUstream a = stream(), b = stream();
        try (BatchNorm layer = layer(); BatchNorm reference = layer()) {
            DeviceBatchNorm d = layer.device();
            EmulatedGpu gpu = EmulatedGpu.get();
            long start = gpu.streamWaits();
            d.forwardTraining(SHAPE, dX, dY, a);
            d.forwardTraining(SHAPE, dX, dY, a);
            assertEquals(start, gpu.streamWaits(), "calls that stay on one stream wait for nothing");
            d.forwardTraining(SHAPE, dX, dY, b);
            assertEquals(start + 1, gpu.streamWaits(), "stream a, then b");
            layer.forwardTraining(SHAPE, x, hostY);
            assertEquals(start + 2, gpu.streamWaits(), "stream b, then the layer's own stream");
            layer.forwardTraining(SHAPE, x, hostY);
            assertEquals(start + 2, gpu.streamWaits(), "the layer's own stream twice");
            d.forwardTraining(SHAPE, dX, dY, a);
            assertEquals(start + 3, gpu.streamWaits(), "the layer's own stream, then a");
            layer.gamma(); // synchronizes the context: nothing is pending after it
            d.forwardTraining(SHAPE, dX, dY, b);
            assertEquals(start + 3, gpu.streamWaits(), "after an accessor's synchronization");

            for (int i = 0; i < 7; i++) { // the layer's seven training forwards, on one stream
                reference.forwardTraining(SHAPE, x, expected);
            }
            assertArrayEquals(expected, read(dY, count), "the last output, against one stream's");
            assertArrayEquals(reference.runningMean(), layer.runningMean());
            assertArrayEquals(reference.runningVar(), layer.runningVar());
            assertEquals(7, layer.numBatchesTracked());
        } finally {
            cuMemFree(dX);
            cuMemFree(dY);
            cuStreamDestroy(a);
            cuStreamDestroy(b);
        }
    }

    @Test
    void aDestroyedStreamOrAnotherThreadsDefaultStreamIsWaitedForByTheContext() throws Exception {
        int count = (int) SHAPE.elementCount();
        float[] x = TestData.activations(new Random(10), SHAPE, 30);
        CUdeviceptr dX = device(x), dY = device(new float[count]);
        try (BatchNorm layer = layer()) {
            DeviceBatchNorm d = layer.device();
            EmulatedGpu gpu = EmulatedGpu.get();
            CUstream gone = stream();
            d.forwardTraining(SHAPE, dX, dY, gone);
            cuStreamDestroy(gone);
            long syncs = gpu.counters().synchronizations();
            d.forwardTraining(SHAPE, dX, dY, null); // the event cannot be recorded on a destroyed stream
            assertTrue(gpu.counters().synchronizations() > syncs, "a destroyed previous stream: the context");
            syncs = gpu.counters().synchronizations();
            CompletableFuture.runAsync(() -> {
                cuda.makeCurrent();
                d.forwardTraining(SHAPE, dX, dY, null); // another thread's per-thread stream
            }).get(60, TimeUnit.SECONDS);
            assertTrue(gpu.counters().synchronizations() > syncs, "another thread's per-thread stream: the context");
            assertEquals(3, layer.numBatchesTracked());
        } finally {
            cuMemFree(dX);
            cuMemFree(dY);
        }
    }
}

package io.github.batchnorm4j;

import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.emulator.EmulatedGpu;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.CudaContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A CUDA layer whose state lives on the device: what each call costs in driver calls (counted by
 * the emulator, so these parts run emulated only), bad batches reported at the next call with the
 * state unchanged, an optimizer step on the device parameters, two layers on two streams, and a
 * training step captured in a CUDA graph and replayed. Skipped, with the probe's reason, where no
 * CUDA device works.
 */
@Tag(TestData.GPU)
class CudaDeviceStateTest {
    private static final Shape[] SHAPES = {Shape.nchw(3, 5, 4, 4), Shape.nchw(2, 3, 3, 5), Shape.nhwc(2, 3, 3, 8),
        Shape.nc(65, 7)};

    private CudaContext cuda;
    private final List<CUdeviceptr> allocations = new ArrayList<>();
    private final List<CUstream> streams = new ArrayList<>();

    @BeforeEach
    void requireCuda() {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        cuda = availability.context;
        cuda.makeCurrent();
    }

    @AfterEach
    void free() {
        for (CUdeviceptr pointer : allocations) {
            cuMemFree(pointer);
        }
        for (CUstream stream : streams) {
            cuStreamDestroy(stream);
        }
    }

    private BatchNorm layer(BatchNormBuilder builder) {
        return builder.build(new CudaBackend(cuda));
    }

    private CUdeviceptr device(float[] values) {
        CUdeviceptr pointer = new CUdeviceptr();
        cuMemAlloc(pointer, 4L * values.length);
        cuMemcpyHtoD(pointer, Pointer.to(values), 4L * values.length);
        allocations.add(pointer);
        return pointer;
    }

    private CUstream stream() {
        CUstream stream = new CUstream();
        cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        streams.add(stream);
        return stream;
    }

    private static float[] read(CUdeviceptr pointer, int count, CUstream stream) {
        cuStreamSynchronize(stream);
        float[] values = new float[count];
        cuMemcpyDtoH(Pointer.to(values), pointer, 4L * count);
        return values;
    }

    // ---- counts per call ----

    /** The driver calls of one steady-state call, after a warm-up call of the same kind. */
    private static EmulatedGpu.Counters countsOf(Runnable call) {
        call.run();
        EmulatedGpu.Counters before = EmulatedGpu.get().counters();
        call.run();
        return EmulatedGpu.get().counters().minus(before);
    }

    @Test
    void deviceCallsSynchronizeNothingCopyNothingAllocateNothing() {
        assumeTrue(EmulatedGpu.active(), "counts driver calls, which only the emulator can");
        StringBuilder table = new StringBuilder("layout          operation   launches syncs copies allocations legacy\n");
        for (Shape shape : SHAPES) {
            int count = (int) shape.elementCount();
            float[] x = TestData.activations(new Random(count), shape, 50);
            CUdeviceptr dX = device(x), dY = device(new float[count]), dDx = device(new float[count]);
            CUstream stream = stream();
            try (BatchNorm layer = layer(BatchNorm.builder(shape.channels()))) {
                DeviceBatchNorm d = layer.device();
                EmulatedGpu.Counters train = countsOf(() -> d.forwardTraining(shape, dX, dY, stream));
                EmulatedGpu.Counters back = countsOf(() -> d.backward(shape, dX, dY, dDx, stream));
                EmulatedGpu.Counters infer = countsOf(() -> d.forwardInference(shape, dX, dY, stream));
                // The layer's own count, which `bn4j bench --backend cuda` reports per call, agrees.
                DeviceBatchNorm.DriverCalls before = d.driverCalls();
                d.forwardTraining(shape, dX, dY, stream);
                assertEquals(new DeviceBatchNorm.DriverCalls(2, 0, 0), d.driverCalls().minus(before), "layer count, train");
                before = d.driverCalls();
                d.backward(shape, dX, dY, dDx, stream);
                assertEquals(new DeviceBatchNorm.DriverCalls(2, 0, 0), d.driverCalls().minus(before), "layer count, backward");
                before = d.driverCalls();
                d.forwardInference(shape, dX, dY, stream);
                assertEquals(new DeviceBatchNorm.DriverCalls(1, 0, 0), d.driverCalls().minus(before), "layer count, inference");
                for (Object[] row : new Object[][] {{"train", train, 2}, {"inference", infer, 1}, {"backward", back, 2}}) {
                    EmulatedGpu.Counters c = (EmulatedGpu.Counters) row[1];
                    String where = shape + " " + row[0];
                    assertEquals((int) row[2], c.launches(), where + ": launches");
                    assertEquals(0, c.synchronizations(), where + ": synchronizations");
                    assertEquals(0, copies(c), where + ": copies and memsets");
                    assertEquals(0, c.allocations() + c.hostAllocations(), where + ": allocations");
                    assertEquals(0, c.legacyStreamOperations(), where + ": operations on the legacy stream");
                    table.append(String.format("%-15s %-11s %8d %5d %6d %11d %6d%n", shape.layout(), row[0],
                            c.launches(), c.synchronizations(), copies(c), c.allocations() + c.hostAllocations(),
                            c.legacyStreamOperations()));
                }
            }
        }
        System.out.println("[counts] device API, per steady-state call\n" + table);
    }

    @Test
    void hostArrayCallsStageThroughPinnedMemoryAndSynchronizeOnce() {
        assumeTrue(EmulatedGpu.active(), "counts driver calls, which only the emulator can");
        StringBuilder table = new StringBuilder("layout          operation   launches syncs H2D D2H sync-copies pageable legacy\n");
        for (Shape shape : SHAPES) {
            int count = (int) shape.elementCount();
            float[] x = TestData.activations(new Random(count), shape, 50);
            float[] y = new float[count], dx = new float[count];
            try (BatchNorm layer = layer(BatchNorm.builder(shape.channels()))) {
                EmulatedGpu.Counters train = countsOf(() -> layer.forwardTraining(shape, x, y));
                EmulatedGpu.Counters back = countsOf(() -> layer.backward(shape, x, y, dx));
                EmulatedGpu.Counters infer = countsOf(() -> layer.forwardInference(shape, x, y));
                for (Object[] row : new Object[][] {{"train", train, 2, 1}, {"inference", infer, 1, 1},
                    {"backward", back, 2, 2}}) {
                    EmulatedGpu.Counters c = (EmulatedGpu.Counters) row[1];
                    String where = shape + " " + row[0];
                    assertEquals((int) row[2], c.launches(), where + ": launches");
                    assertEquals(1, c.synchronizations(), where + ": synchronizations");
                    assertEquals((int) row[3], c.hostToDevice(), where + ": uploads");
                    assertEquals(1, c.deviceToHost(), where + ": downloads");
                    assertEquals(0, c.synchronousCopies(), where + ": synchronous copies");
                    assertEquals(0, c.pageableAsyncCopies(), where + ": asynchronous copies from pageable memory");
                    assertEquals(0, c.allocations() + c.hostAllocations(), where + ": allocations");
                    assertEquals(0, c.legacyStreamOperations(), where + ": operations on the legacy stream");
                    table.append(String.format("%-15s %-11s %8d %5d %3d %3d %11d %8d %6d%n", shape.layout(), row[0],
                            c.launches(), c.synchronizations(), c.hostToDevice(), c.deviceToHost(),
                            c.synchronousCopies(), c.pageableAsyncCopies(), c.legacyStreamOperations()));
                }
            }
        }
        System.out.println("[counts] host API, per steady-state call\n" + table);
    }

    private static long copies(EmulatedGpu.Counters c) {
        return c.hostToDevice() + c.deviceToHost() + c.deviceToDevice() + c.memsets();
    }

    // ---- bad batches ----

    @Test
    void aNanBatchOnTheDevicePathIsRaisedAtTheNextCallWithTheStateUnchanged() {
        Shape shape = Shape.nchw(4, 3, 2, 3);
        int count = (int) shape.elementCount();
        float[] good = TestData.activations(new Random(5), shape, 20);
        float[] bad = good.clone();
        bad[7] = Float.NaN; // channel 1 (7 / 6 = 1)
        CUdeviceptr dGood = device(good), dBad = device(bad), dY = device(new float[count]);
        CUstream stream = stream();
        try (BatchNorm layer = layer(BatchNorm.builder(3))) {
            DeviceBatchNorm d = layer.device();
            for (int step = 0; step < 3; step++) {
                d.forwardTraining(shape, dGood, dY, stream);
            }
            float[] mean = layer.runningMean(), var = layer.runningVar(), saved = layer.savedMean();
            d.forwardTraining(shape, dBad, dY, stream); // returns: the failure is on the device
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> d.forwardTraining(shape, dGood, dY, stream));
            assertTrue(e.getMessage().startsWith("batch statistics of channel 1 are not finite"), e.getMessage());
            assertTrue(e.getMessage().contains("training forward 4 of this layer"), e.getMessage());
            assertArrayEquals(mean, layer.runningMean(), "running mean unchanged");
            assertArrayEquals(var, layer.runningVar(), "running variance unchanged");
            assertArrayEquals(saved, layer.savedMean(), "saved statistics unchanged");
            assertEquals(3, layer.numBatchesTracked(), "count unchanged");
            // Reported once; the layer goes on as if the bad batch had never come.
            d.forwardTraining(shape, dGood, dY, stream);
            assertEquals(4, layer.numBatchesTracked());
        }
        try (BatchNorm layer = layer(BatchNorm.builder(3).synchronousCudaErrors(true))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> layer.device().forwardTraining(shape, dBad, dY, stream));
            assertTrue(e.getMessage().startsWith("batch statistics of channel 1 are not finite"), e.getMessage());
            assertEquals(0, layer.numBatchesTracked(), "synchronous errors: thrown by the failing call itself");
        }
    }

    @Test
    void anAccessorReportsAPendingFailure() {
        Shape shape = Shape.nc(6, 2);
        float[] bad = {1, 2, 3, 4, Float.POSITIVE_INFINITY, 5, 6, 7, 8, 9, 10, 11};
        CUdeviceptr dBad = device(bad), dY = device(new float[12]);
        CUstream stream = stream();
        try (BatchNorm layer = layer(BatchNorm.builder(2))) {
            layer.device().forwardTraining(shape, dBad, dY, stream);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, layer::runningMean);
            assertTrue(e.getMessage().startsWith("batch statistics of channel 0 are not finite"), e.getMessage());
            assertArrayEquals(new float[] {0, 0}, layer.runningMean(), "then the state, unchanged");
        }
    }

    // ---- parameters on the device ----

    @Test
    void anOptimizerStepOnTheDeviceParametersIsWhatTheLayerUses() {
        for (Shape shape : SHAPES) {
            int count = (int) shape.elementCount();
            int c = shape.channels();
            Random random = new Random(count + 1);
            float[] x = TestData.activations(random, shape, 30);
            float[] dy = TestData.gaussian(random, count);
            CUdeviceptr dX = device(x), dDy = device(dy), dY = device(new float[count]), dDx = device(new float[count]);
            CUstream stream = stream();
            try (BatchNorm onDevice = layer(BatchNorm.builder(c));
                    BatchNorm reference = layer(BatchNorm.builder(c))) {
                DeviceBatchNorm d = onDevice.device();
                float[] want = new float[count], wantDx = new float[count];
                for (int step = 0; step < 3; step++) {
                    d.forwardTraining(shape, dX, dY, stream);
                    d.backward(shape, dX, dDy, dDx, stream);
                    // The pipeline's optimizer: SGD on the device memory of gamma and beta.
                    float[] gamma = read(d.gamma(), c, stream), grad = read(d.gammaGradient(), c, stream);
                    float[] beta = read(d.beta(), c, stream), betaGrad = read(d.betaGradient(), c, stream);
                    for (int k = 0; k < c; k++) {
                        gamma[k] -= 0.1f * grad[k];
                        beta[k] -= 0.1f * betaGrad[k];
                    }
                    cuMemcpyHtoD(d.gamma(), Pointer.to(gamma), 4L * c);
                    cuMemcpyHtoD(d.beta(), Pointer.to(beta), 4L * c);
                    // The same step on a twin through host arrays and setters.
                    reference.forwardTraining(shape, x, want);
                    reference.backward(shape, x, dy, wantDx);
                    float[] g = reference.gamma(), b = reference.beta();
                    float[] rg = reference.gammaGradient(), rb = reference.betaGradient();
                    for (int k = 0; k < c; k++) {
                        g[k] -= 0.1f * rg[k];
                        b[k] -= 0.1f * rb[k];
                    }
                    reference.setGamma(g);
                    reference.setBeta(b);
                }
                assertArrayEquals(reference.gamma(), onDevice.gamma(), shape + ": the host getter sees the device step");
                assertArrayEquals(reference.beta(), onDevice.beta(), shape + ": beta");
                d.forwardInference(shape, dX, dY, stream);
                reference.forwardInference(shape, x, want);
                assertArrayEquals(want, read(dY, count, stream), shape + ": inference uses the updated gamma and beta");
                d.forwardTraining(shape, dX, dY, stream);
                reference.forwardTraining(shape, x, want);
                assertArrayEquals(want, read(dY, count, stream), shape + ": so does training");
            }
        }
    }

    // ---- streams and graphs ----

    @Test
    void twoLayersOnTwoStreamsInterleavedMatchEachAlone() {
        Shape shape = Shape.nhwc(3, 4, 4, 12);
        int count = (int) shape.elementCount();
        Random random = new Random(11);
        float[] xa = TestData.activations(random, shape, 10), xb = TestData.activations(random, shape, -40);
        float[] dy = TestData.gaussian(random, count);
        CUdeviceptr dXa = device(xa), dXb = device(xb), dDy = device(dy);
        CUdeviceptr dYa = device(new float[count]), dYb = device(new float[count]);
        CUdeviceptr dDxa = device(new float[count]), dDxb = device(new float[count]);
        CUstream one = stream(), two = stream();
        try (BatchNorm a = layer(BatchNorm.builder(12)); BatchNorm b = layer(BatchNorm.builder(12).momentum(0.3));
                BatchNorm aloneA = layer(BatchNorm.builder(12));
                BatchNorm aloneB = layer(BatchNorm.builder(12).momentum(0.3))) {
            float[] wantA = new float[count], wantB = new float[count], dxA = new float[count], dxB = new float[count];
            for (int step = 0; step < 4; step++) {
                a.device().forwardTraining(shape, dXa, dYa, one);
                b.device().forwardTraining(shape, dXb, dYb, two);
                b.device().backward(shape, dXb, dDy, dDxb, two);
                a.device().backward(shape, dXa, dDy, dDxa, one);
            }
            for (int step = 0; step < 4; step++) {
                aloneA.forwardTraining(shape, xa, wantA);
                aloneA.backward(shape, xa, dy, dxA);
                aloneB.forwardTraining(shape, xb, wantB);
                aloneB.backward(shape, xb, dy, dxB);
            }
            assertArrayEquals(wantA, read(dYa, count, one), "layer a's y");
            assertArrayEquals(wantB, read(dYb, count, two), "layer b's y");
            assertArrayEquals(dxA, read(dDxa, count, one), "layer a's dx");
            assertArrayEquals(dxB, read(dDxb, count, two), "layer b's dx");
            assertArrayEquals(aloneA.runningVar(), a.runningVar(), "layer a's running variance");
            assertArrayEquals(aloneB.runningVar(), b.runningVar(), "layer b's running variance");
            assertArrayEquals(aloneB.gammaGradient(), b.gammaGradient(), "layer b's gamma gradient");
        }
    }

    @Test
    void aTrainingStepCapturedInAGraphReplaysAsDirectCalls() {
        for (Shape shape : new Shape[] {Shape.nchw(2, 3, 5, 5), Shape.nhwc(2, 3, 3, 8)}) {
            int count = (int) shape.elementCount();
            int c = shape.channels();
            Random random = new Random(count + 3);
            float[] x = TestData.activations(random, shape, 25);
            float[] dy = TestData.gaussian(random, count);
            CUdeviceptr dX = device(x), dDy = device(dy), dY = device(new float[count]), dDx = device(new float[count]);
            CUstream stream = stream();
            // The cumulative average weighs step t by 1/t: a replay must read t from the device.
            try (BatchNorm captured = layer(BatchNorm.builder(c).cumulativeAverage());
                    BatchNorm direct = layer(BatchNorm.builder(c).cumulativeAverage())) {
                DeviceBatchNorm d = captured.device();
                d.forwardTraining(shape, dX, dY, stream); // warm-up: the buffers exist before capture
                d.backward(shape, dX, dDy, dDx, stream);
                cuStreamSynchronize(stream);
                CUgraph graph = new CUgraph();
                CUgraphExec exec = new CUgraphExec();
                assertEquals(CUresult.CUDA_SUCCESS,
                        cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_GLOBAL));
                d.forwardTraining(shape, dX, dY, stream);
                d.backward(shape, dX, dDy, dDx, stream);
                assertEquals(CUresult.CUDA_SUCCESS, cuStreamEndCapture(stream, graph), shape + ": capture");
                assertEquals(CUresult.CUDA_SUCCESS, cuGraphInstantiate(exec, graph, 0));
                for (int replay = 0; replay < 3; replay++) {
                    assertEquals(CUresult.CUDA_SUCCESS, cuGraphLaunch(exec, stream));
                }
                float[] y = read(dY, count, stream), dx = read(dDx, count, stream);
                cuGraphExecDestroy(exec);
                cuGraphDestroy(graph);
                float[] wantY = new float[count], wantDx = new float[count];
                for (int step = 0; step < 4; step++) { // the warm-up and three replays
                    direct.forwardTraining(shape, x, wantY);
                    direct.backward(shape, x, dy, wantDx);
                }
                assertEquals(4, captured.numBatchesTracked(), shape + ": every replay counted on the device");
                assertArrayEquals(direct.runningMean(), captured.runningMean(), shape + ": running mean");
                assertArrayEquals(direct.runningVar(), captured.runningVar(), shape + ": running variance");
                assertArrayEquals(wantY, y, shape + ": y");
                assertArrayEquals(wantDx, dx, shape + ": dx");
                assertArrayEquals(direct.gammaGradient(), captured.gammaGradient(), shape + ": gamma gradient");
            }
        }
    }
}

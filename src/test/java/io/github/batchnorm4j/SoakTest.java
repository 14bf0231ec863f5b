package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.CudaContext;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 100,000 training steps (forward and backward) plus single-example inference on small shapes:
 * the Java heap is the same before and after, and the running statistics stay finite and match a
 * float64 reference of the last batch's update. Then layers of a larger shape are built, used and
 * closed a few hundred times: the heap returns to where it was, so closing frees what a layer
 * allocated. The figures go to target/soak-report.txt and standard output.
 */
class SoakTest {
    private static final int STEPS = 100_000;
    private static final int CUDA_STEPS = 300;
    private static final int CUDA_LAYERS = 50;
    private static final long HEAP_TOLERANCE = 2L << 20;
    private static final int WARM_UP_ROUND = 5_000;
    /** 200 rounds of 5,000 steps: about 10 s on the 2-core CI machine. */
    private static final int MAX_WARM_UP_ROUNDS = 200;
    /** 300 closed layers keep their C=32 state (about 2 KB each); staged tensors would be 1 GB. */
    private static final long CLOSED_LAYERS_TOLERANCE = 4L << 20;

    @Test
    void heapStaysFlatOverAHundredThousandSteps() throws IOException {
        Shape batch = Shape.nchw(8, 16, 5, 5);
        Shape single = Shape.nchw(1, 16, 5, 5);
        Shape dense = Shape.nc(32, 64);
        Random random = new Random(5);
        float[] x = TestData.activations(random, batch, 20);
        float[] dy = TestData.gaussian(random, x.length);
        float[] y = new float[x.length];
        float[] dx = new float[x.length];
        float[] one = TestData.activations(random, single, 20);
        float[] oneOut = new float[one.length];
        float[] d = TestData.activations(random, dense, -3);
        float[] dOut = new float[d.length];
        float[] dGrad = TestData.gaussian(random, d.length);
        float[] dDx = new float[d.length];
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (BatchNorm conv = BatchNorm.builder(16).build(); BatchNorm fc = BatchNorm.builder(64).build()) {
            Runnable step = () -> {
                conv.forwardTraining(batch, x, y);
                conv.backward(batch, x, dy, dx);
                conv.forwardInference(single, one, oneOut);
                fc.forwardTraining(dense, d, dOut);
                fc.backward(dense, d, dGrad, dDx);
            };
            long warmUpSteps = warmUp(step, threads);
            long heapBefore = usedHeapAfterGc();
            long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
            long start = System.nanoTime();
            for (int i = 0; i < STEPS; i++) {
                step.run();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
            long heapAfter = usedHeapAfterGc();
            for (float v : conv.runningVar()) {
                assertTrue(Float.isFinite(v) && v > 0, "running variance after the soak: " + v);
            }
            assertEquals(warmUpSteps + STEPS, conv.numBatchesTracked());
            long closedHeap = heapAfterClosingLayers();
            String report = String.format(Locale.ROOT,
                    "soak: %d steps (train + backward of NCHW (8,16,5,5), inference of (1,16,5,5), train + backward "
                            + "of NC (32,64)) in %.1f s, after %d warm-up steps%n"
                            + "heap used after GC: %d bytes before, %d after (difference %+d)%n"
                            + "allocated on the stepping thread: %d bytes over the %d steps (%.3f bytes per step)%n"
                            + "300 layers of NCHW (16,32,24,24) used through direct buffers, closed and kept reachable: heap after GC "
                            + "%+d bytes against the start of that phase%n",
                    STEPS, seconds, warmUpSteps, heapBefore, heapAfter, heapAfter - heapBefore, allocated, STEPS,
                    (double) allocated / STEPS, closedHeap);
            System.out.print(report);
            Path target = Path.of("target");
            if (Files.isDirectory(target)) {
                Files.writeString(target.resolve("soak-report.txt"), report);
            }
            assertTrue(Math.abs(heapAfter - heapBefore) < HEAP_TOLERANCE, report);
            assertTrue(allocated < STEPS, "less than a byte per step on average: " + report);
            assertTrue(Math.abs(closedHeap) < CLOSED_LAYERS_TOLERANCE, report);
        }
    }

    /**
     * Runs the step in rounds until one round allocates less than a byte per step: scratch has
     * grown and C2 has compiled the Vector API loops (the profiling tiers box every vector, and on a
     * loaded 2-core machine C2 can finish after any fixed warm-up). Gives up after {@link
     * #MAX_WARM_UP_ROUNDS} rounds, leaving the measured steps to fail if allocation never stops.
     *
     * @return the number of steps run
     */
    private static long warmUp(Runnable step, com.sun.management.ThreadMXBean threads) {
        long steps = 0;
        for (int round = 0; round < MAX_WARM_UP_ROUNDS; round++) {
            long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < WARM_UP_ROUND; i++) {
                step.run();
            }
            steps += WARM_UP_ROUND;
            if (threads.getCurrentThreadAllocatedBytes() - allocatedBefore < WARM_UP_ROUND) {
                break;
            }
        }
        return steps;
    }

    /**
     * 20,000 steps over 200 distinct random shapes (both layouts, 1 to 40 channels) on one layer
     * per channel count: scratch grows to the largest shape and stays, so the heap after GC is the
     * same after the second pass over the shapes as after the first.
     */
    @Test
    void heapStaysFlatOverManyDistinctShapes() throws IOException {
        Random random = new Random(12);
        List<Shape> shapes = new ArrayList<>();
        while (shapes.size() < 200) {
            int c = 1 + random.nextInt(40);
            int n = 1 + random.nextInt(6), h = 1 + random.nextInt(9), w = 1 + random.nextInt(9);
            Shape shape = switch (random.nextInt(3)) {
                case 0 -> Shape.nc(n + 1, c);
                case 1 -> Shape.nchw(n, c, h, w);
                default -> Shape.nhwc(n, h, w, c);
            };
            if (shape.valuesPerChannel() > 1) {
                shapes.add(shape);
            }
        }
        BatchNorm[] layers = new BatchNorm[41];
        float[] buffer = TestData.activations(random, Shape.nc(1, 6 * 9 * 9 * 40), 4);
        float[] out = new float[2 * buffer.length]; // training output, then inference output
        float[] grad = TestData.gaussian(random, buffer.length);
        try {
            long[] heap = new long[2];
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < 10_000; i++) {
                    Shape shape = shapes.get(i % shapes.size());
                    int c = shape.channels();
                    if (layers[c] == null) {
                        layers[c] = BatchNorm.builder(c).build();
                    }
                    int count = (int) shape.elementCount();
                    layers[c].forwardTraining(shape, buffer, 0, out, 0);
                    layers[c].backward(shape, buffer, 0, grad, 0, out, 0);
                    layers[c].forwardInference(shape, buffer, 0, out, count);
                }
                heap[pass] = usedHeapAfterGc();
            }
            String report = String.format(Locale.ROOT, "distinct shapes: 2 x 10,000 steps over 200 shapes; heap after "
                    + "GC %d bytes after the first pass, %d after the second (difference %+d)%n", heap[0], heap[1],
                    heap[1] - heap[0]);
            System.out.print(report);
            Path target = Path.of("target");
            if (Files.isDirectory(target)) {
                Files.writeString(target.resolve("soak-report.txt"), report, java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            }
            assertTrue(Math.abs(heap[1] - heap[0]) < HEAP_TOLERANCE, report);
        } finally {
            for (BatchNorm layer : layers) {
                if (layer != null) {
                    layer.close();
                }
            }
        }
    }

    /**
     * Heap growth (after GC) from 300 layers of a 1.2 MB shape, each used through direct buffers
     * (which stage the tensor in three arrays of its size) and then closed, all kept reachable: what
     * a closed layer still holds stays on the heap, so a leak of 3.5 MB per layer would show as 1 GB.
     */
    private static long heapAfterClosingLayers() {
        Shape shape = Shape.nchw(16, 32, 24, 24);
        int count = (int) shape.elementCount();
        FloatBuffer x = ByteBuffer.allocateDirect(4 * count).order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatBuffer y = ByteBuffer.allocateDirect(4 * count).order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatBuffer dx = ByteBuffer.allocateDirect(4 * count).order(ByteOrder.nativeOrder()).asFloatBuffer();
        x.put(TestData.activations(new Random(9), shape, 1)).flip();
        long before = usedHeapAfterGc();
        List<BatchNorm> closed = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            BatchNorm layer = BatchNorm.builder(32).build();
            layer.forwardTraining(shape, x, y);
            layer.backward(shape, x, y, dx);
            layer.close();
            closed.add(layer);
        }
        long growth = usedHeapAfterGc() - before;
        assertEquals(300, closed.size());
        return growth;
    }

    /**
     * The shorter soak on CUDA (the emulator in CI, where a step of these shapes costs a few
     * milliseconds): {@link #CUDA_STEPS} steps of the CPU soak's two layers, each beside a CPU twin,
     * then {@link #CUDA_LAYERS} CUDA layers built, used and closed. Device memory in use is the same,
     * to the byte, across the steps and after the layers are closed; the heap is flat; the twins'
     * running statistics agree.
     */
    @Test
    @Tag(TestData.GPU)
    void deviceMemoryAndHeapStayFlatOnCuda() {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        CudaContext cuda = availability.context;
        Shape batch = Shape.nchw(8, 16, 5, 5);
        Shape single = Shape.nchw(1, 16, 5, 5);
        Shape dense = Shape.nc(32, 64);
        Random random = new Random(51);
        float[] x = TestData.activations(random, batch, 20), dy = TestData.gaussian(random, x.length);
        float[] one = TestData.activations(random, single, 20);
        float[] d = TestData.activations(random, dense, -3), dGrad = TestData.gaussian(random, d.length);
        float[][] out = {new float[x.length], new float[x.length], new float[one.length], new float[d.length]};
        long freeAtStart = freeDeviceBytes(cuda);
        long[] free = new long[2];
        long[] heap = new long[2];
        BatchNorm[] layers = {BatchNorm.builder(16).build(new CudaBackend(cuda)),
            BatchNorm.builder(64).build(new CudaBackend(cuda)), BatchNorm.builder(16).build(new CpuBackend()),
            BatchNorm.builder(64).build(new CpuBackend())};
        try {
            for (int i = 0; i < CUDA_STEPS + 1; i++) {
                for (int twin = 0; twin < 2; twin++) {
                    BatchNorm conv = layers[2 * twin], fc = layers[2 * twin + 1];
                    conv.forwardTraining(batch, x, out[0]);
                    conv.backward(batch, x, dy, out[1]);
                    conv.forwardInference(single, one, out[2]);
                    fc.forwardTraining(dense, d, out[3]);
                    fc.backward(dense, d, dGrad, out[3]);
                }
                if (i == 0 || i == CUDA_STEPS) { // after the first step every buffer has its size
                    free[i == 0 ? 0 : 1] = freeDeviceBytes(cuda);
                    heap[i == 0 ? 0 : 1] = usedHeapAfterGc();
                }
            }
            for (int i = 0; i < 2; i++) {
                Tolerance.assertClose("running mean " + i, layers[i + 2].runningMean(), layers[i].runningMean(), 1e-5,
                        1e-5);
                Tolerance.assertClose("running var " + i, layers[i + 2].runningVar(), layers[i].runningVar(), 1e-5,
                        1e-5);
                assertEquals(CUDA_STEPS + 1, layers[i].numBatchesTracked());
            }
        } finally {
            for (BatchNorm layer : layers) {
                layer.close();
            }
        }
        for (int i = 0; i < CUDA_LAYERS; i++) {
            try (BatchNorm layer = BatchNorm.builder(16).build(new CudaBackend(cuda))) {
                layer.forwardTraining(batch, x, out[0]);
                layer.backward(batch, x, dy, out[1]);
            }
        }
        long freeAtEnd = freeDeviceBytes(cuda);
        String report = String.format(Locale.ROOT, "cuda soak: %d steps; device bytes free %d after the first step, "
                + "%d after the last; %d at the start, %d after %d more layers built, used and closed; heap after GC "
                + "%+d bytes over the steps%n", CUDA_STEPS, free[0], free[1], freeAtStart, freeAtEnd, CUDA_LAYERS,
                heap[1] - heap[0]);
        System.out.print(report);
        assertEquals(free[0], free[1], "device memory in use grew over the steps: " + report);
        assertEquals(freeAtStart, freeAtEnd, "closed layers left device memory allocated: " + report);
        assertTrue(Math.abs(heap[1] - heap[0]) < HEAP_TOLERANCE, report);
    }

    private static long freeDeviceBytes(CudaContext cuda) {
        cuda.makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        assertEquals(CUresult.CUDA_SUCCESS, JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0];
    }

    private static long usedHeapAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}

package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.emulator.EmulatedGpu;
import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.CudaContext;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 100,000 training steps (forward and backward) plus single-example inference on small shapes:
 * the live Java heap does not grow by more than a few KB, and the running statistics stay finite
 * and match a float64 reference of the last batch's update. Then layers of a larger shape are
 * built, used and closed a few hundred times: the heap grows by their C-sized state alone, so
 * closing frees what a layer allocated. The figures go to target/soak-report.txt and standard
 * output.
 */
class SoakTest {
    private static final int STEPS = 100_000;
    private static final int CUDA_STEPS = 300;
    private static final int CUDA_LAYERS = 50;
    /**
     * How far the live heap ({@link #liveHeapBytes}) may move over the CPU soak's steps, between the
     * distinct-shape passes and over the CUDA soak's host side. Measured 2026-12-08 on the 2-core
     * machine, in either direction: at most 1,624 bytes over the 100,000 steps and 3,896 between the
     * passes (G1, Parallel and Shenandoah, with and without compressed oops), 1,264 over the CUDA
     * steps (Shenandoah, both emulated devices). The test's own arrays are kept reachable up to the
     * last figure: once the JIT sees them dead, the collector frees them and the heap falls by their
     * 87,488 bytes.
     */
    private static final long HEAP_TOLERANCE = 16L << 10;
    /**
     * The same under Serial GC (the JVM's choice on one CPU), whose full collections may leave dead
     * objects in place (int[] fillers, counted as live): up to 55,552 bytes between the passes.
     */
    private static final long SERIAL_GC_HEAP_TOLERANCE = 128L << 10;
    private static final int WARM_UP_ROUND = 5_000;
    /** 200 rounds of 5,000 steps: about 10 s on the 2-core CI machine. */
    private static final int MAX_WARM_UP_ROUNDS = 200;
    /**
     * What one closed layer may keep: its C=32 state, measured 2,709 (Shenandoah) to 3,427 bytes
     * (no compressed oops) a layer, 3,096 with G1; with G1 a 1 KiB array more per layer would not
     * fit, nor would the staged tensors (3.5 MB).
     */
    private static final long CLOSED_LAYER_BYTES = 4L << 10;

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
            long heapBefore = liveHeapBytes();
            long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
            long start = System.nanoTime();
            for (int i = 0; i < STEPS; i++) {
                step.run();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
            long heapAfter = liveHeapBytes();
            Reference.reachabilityFence(step); // and the arrays it holds, as they were at heapBefore
            for (float v : conv.runningVar()) {
                assertTrue(Float.isFinite(v) && v > 0, "running variance after the soak: " + v);
            }
            assertEquals(warmUpSteps + STEPS, conv.numBatchesTracked());
            long closedHeap = heapAfterClosingLayers();
            String report = String.format(Locale.ROOT,
                    "soak: %d steps (train + backward of NCHW (8,16,5,5), inference of (1,16,5,5), train + backward "
                            + "of NC (32,64)) in %.1f s, after %d warm-up steps%n"
                            + "live heap: %d bytes before, %d after (difference %+d)%n"
                            + "allocated on the stepping thread: %d bytes over the %d steps (%.3f bytes per step)%n"
                            + "300 layers of NCHW (16,32,24,24) used through direct buffers, closed and kept reachable: "
                            + "live heap %+d bytes against the start of that phase (%d a layer)%n",
                    STEPS, seconds, warmUpSteps, heapBefore, heapAfter, heapAfter - heapBefore, allocated, STEPS,
                    (double) allocated / STEPS, closedHeap, closedHeap / 300);
            System.out.print(report);
            Path target = Path.of("target");
            if (Files.isDirectory(target)) {
                Files.writeString(target.resolve("soak-report.txt"), report);
            }
            assertTrue(Math.abs(heapAfter - heapBefore) < heapTolerance(), "the heap moved over the steps: " + report);
            assertTrue(allocated < STEPS, "less than a byte per step on average: " + report);
            assertTrue(closedHeap < 300 * CLOSED_LAYER_BYTES, "closed layers keep more than their C-sized state: "
                    + report);
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
     * per channel count: scratch grows to the largest shape and stays, so the live heap does not
     * grow in the second pass over the shapes.
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
                heap[pass] = liveHeapBytes();
            }
            Reference.reachabilityFence(buffer);
            Reference.reachabilityFence(out);
            Reference.reachabilityFence(grad);
            Reference.reachabilityFence(shapes);
            String report = String.format(Locale.ROOT, "distinct shapes: 2 x 10,000 steps over 200 shapes; live heap "
                    + "%d bytes after the first pass, %d after the second (difference %+d)%n", heap[0], heap[1],
                    heap[1] - heap[0]);
            System.out.print(report);
            Path target = Path.of("target");
            if (Files.isDirectory(target)) {
                Files.writeString(target.resolve("soak-report.txt"), report, java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            }
            assertTrue(Math.abs(heap[1] - heap[0]) < heapTolerance(), "the heap moved in the second pass: " + report);
        } finally {
            for (BatchNorm layer : layers) {
                if (layer != null) {
                    layer.close();
                }
            }
        }
    }

    /**
     * Live heap growth from 300 layers of a 1.2 MB shape, each used through direct buffers
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
        long before = liveHeapBytes();
        List<BatchNorm> closed = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            BatchNorm layer = BatchNorm.builder(32).build();
            layer.forwardTraining(shape, x, y);
            layer.backward(shape, x, y, dx);
            layer.close();
            closed.add(layer);
        }
        long growth = liveHeapBytes() - before;
        Reference.reachabilityFence(x);
        Reference.reachabilityFence(y);
        Reference.reachabilityFence(dx);
        assertEquals(300, closed.size());
        return growth;
    }

    /**
     * The shorter soak on CUDA (the emulator in CI, where a step of these shapes costs a few
     * milliseconds): {@link #CUDA_STEPS} steps of the CPU soak's two layers, each beside a CPU twin,
     * then {@link #CUDA_LAYERS} CUDA layers built, used and closed. Device memory in use is the same,
     * to the byte, across the steps and after the layers are closed; the twins' running statistics
     * agree; the heap is flat. On the emulator the heap over those steps holds the emulator's record
     * of each launch (the cost model's; about 2 KB a launch, 9 launches a step), so there the
     * library's host side is measured over {@link #CUDA_STEPS} more steps of the CUDA layers with
     * the emulator's kernels off (it counts and checks each launch, runs and records none): the
     * same host code, calls and copies.
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
        long[] hostHeap = null;
        BatchNorm[] layers = {BatchNorm.builder(16).build(new CudaBackend(cuda)),
            BatchNorm.builder(64).build(new CudaBackend(cuda)), BatchNorm.builder(16).build(new CpuBackend()),
            BatchNorm.builder(64).build(new CpuBackend())};
        try {
            java.util.function.IntConsumer step = twin -> {
                BatchNorm conv = layers[2 * twin], fc = layers[2 * twin + 1];
                conv.forwardTraining(batch, x, out[0]);
                conv.backward(batch, x, dy, out[1]);
                conv.forwardInference(single, one, out[2]);
                fc.forwardTraining(dense, d, out[3]);
                fc.backward(dense, d, dGrad, out[3]);
            };
            for (int i = 0; i < CUDA_STEPS + 1; i++) {
                step.accept(0);
                step.accept(1);
                if (i == 0 || i == CUDA_STEPS) { // after the first step every buffer has its size
                    free[i == 0 ? 0 : 1] = freeDeviceBytes(cuda);
                    heap[i == 0 ? 0 : 1] = liveHeapBytes();
                }
            }
            for (int i = 0; i < 2; i++) {
                Tolerance.assertClose("running mean " + i, layers[i + 2].runningMean(), layers[i].runningMean(), 1e-5,
                        1e-5);
                Tolerance.assertClose("running var " + i, layers[i + 2].runningVar(), layers[i].runningVar(), 1e-5,
                        1e-5);
                assertEquals(CUDA_STEPS + 1, layers[i].numBatchesTracked());
            }
            if (EmulatedGpu.active()) {
                EmulatedGpu gpu = EmulatedGpu.get();
                gpu.executeKernels(false);
                try {
                    hostHeap = new long[2];
                    step.accept(0);
                    hostHeap[0] = liveHeapBytes();
                    for (int i = 0; i < CUDA_STEPS; i++) {
                        step.accept(0);
                    }
                    hostHeap[1] = liveHeapBytes();
                    Reference.reachabilityFence(step);
                } finally {
                    gpu.executeKernels(true);
                }
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
                + "%d after the last; %d at the start, %d after %d more layers built, used and closed; live heap "
                + "%+d bytes over the steps%s%n", CUDA_STEPS, free[0], free[1], freeAtStart, freeAtEnd, CUDA_LAYERS,
                heap[1] - heap[0], hostHeap == null ? "" : String.format(Locale.ROOT, " (the emulator's launch "
                        + "records), %+d over %d steps with the emulator's kernels off", hostHeap[1] - hostHeap[0],
                        CUDA_STEPS));
        System.out.print(report);
        assertEquals(free[0], free[1], "device memory in use grew over the steps: " + report);
        assertEquals(freeAtStart, freeAtEnd, "closed layers left device memory allocated: " + report);
        long[] hostSide = hostHeap == null ? heap : hostHeap;
        assertTrue(Math.abs(hostSide[1] - hostSide[0]) < heapTolerance(), "the heap moved over the steps: "
                + report);
    }

    private static long freeDeviceBytes(CudaContext cuda) {
        cuda.makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        assertEquals(CUresult.CUDA_SUCCESS, JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0];
    }

    private static long heapTolerance() {
        boolean serial = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .anyMatch(gc -> gc.getName().equals("MarkSweepCompact"));
        return serial ? SERIAL_GC_HEAP_TOLERANCE : HEAP_TOLERANCE;
    }

    /** Whether {@link #liveHeapBytes} has used the diagnostic MBean in this JVM. */
    private static boolean histogramTaken;

    /**
     * Live bytes on the heap: the least total of five class histograms (jcmd GC.class_histogram),
     * each taken after a full collection (Shenandoah, the emulated fork's collector, walks from the
     * roots instead). A full collection may leave dead objects in place, which count as live
     * (Serial GC: 116 KB of unreachable int[] fillers in one histogram here; the least of five has
     * fewer). The used heap after System.gc() is coarser: dead objects too (16 MB of them under
     * Parallel GC after the closed layers), and whole regions under Shenandoah. The MBean's first
     * use in the JVM is not counted, so what it loads and keeps is in every figure. The used heap
     * after System.gc() where that MBean is missing (not HotSpot).
     */
    private static long liveHeapBytes() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        long live = Long.MAX_VALUE;
        try {
            ObjectName diagnostics = new ObjectName("com.sun.management:type=DiagnosticCommand");
            for (int i = histogramTaken ? 0 : -1; i < 5; i++) {
                String histogram = (String) server.invoke(diagnostics, "gcClassHistogram",
                        new Object[] {new String[0]}, new String[] {String[].class.getName()});
                histogramTaken = true;
                String[] lines = histogram.strip().split("\n");
                String[] total = lines[lines.length - 1].strip().split("\\s+");
                assertEquals("Total", total[0], "last line of the class histogram: " + lines[lines.length - 1]);
                if (i >= 0) {
                    live = Math.min(live, Long.parseLong(total[2]));
                }
            }
        } catch (JMException e) {
            return usedHeapAfterGc();
        }
        return live;
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

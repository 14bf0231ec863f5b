package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.FaultInjection;
import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A fault in the middle of a step, injected through {@link FaultInjection} at each point where the
 * backends can fail (a CPU task on the caller's or a worker thread; a device allocation, launch or
 * copy), leaves everything the layer holds exactly as before the step, and the next step gives
 * bitwise what a twin layer that never saw the fault gives. One exception, by design: on CUDA the
 * state lives on the device and the step's last kernel commits it, so a failed copy of the output
 * back to the host (the last copy of a host-array call) reports a step that did happen; the test
 * then holds the layer to the twin's state after that step.
 */
class FaultInjectionTest {
    /** Small and fused, channels-first and channels-last spread over several chunks and threads. */
    private static final List<Shape> SHAPES = List.of(Shape.nc(16, 5), Shape.nchw(2, 3, 4, 4),
            Shape.nchw(4, 3, 190, 190), Shape.nhwc(4, 100, 100, 8), Shape.nc(9000, 8));
    /**
     * The same kinds for the CUDA half, with the large ones only just past one statistics chunk
     * (65536 values): the host code takes the same paths, and the emulated GPU of the test fork
     * runs the whole set in seconds instead of minutes.
     */
    private static final List<Shape> CUDA_SHAPES = List.of(Shape.nc(16, 5), Shape.nchw(2, 3, 4, 4),
            Shape.nchw(1, 2, 260, 260), Shape.nhwc(1, 257, 257, 1), Shape.nc(9000, 8));

    private enum Op {
        TRAIN, INFERENCE, BACKWARD
    }

    /** Thrown by the hook; a plain RuntimeException, as a bug or an OutOfMemoryError's wrapper would be. */
    private static final class InjectedFault extends RuntimeException {
        InjectedFault(FaultInjection.Point point, int hit) {
            super("injected at " + point + ", hit " + hit);
        }
    }

    private static final int[] HITS = {1, 2, 5};
    private static int injected;

    @AfterEach
    void clearHook() {
        FaultInjection.clear();
    }

    @Test
    void aCpuFaultMidStepChangesNothingAndTheNextStepWorks() {
        int before = injected;
        for (Shape shape : SHAPES) {
            for (int hit : HITS) {
                check(shape, Op.TRAIN, FaultInjection.Point.CPU_STATISTICS_TASK, hit, CpuBackend::new, 0);
                check(shape, Op.TRAIN, FaultInjection.Point.CPU_NORMALIZE_TASK, hit, CpuBackend::new, 0);
                check(shape, Op.INFERENCE, FaultInjection.Point.CPU_NORMALIZE_TASK, hit, CpuBackend::new, 0);
                check(shape, Op.BACKWARD, FaultInjection.Point.CPU_GRADIENT_SUMS_TASK, hit, CpuBackend::new, 0);
                check(shape, Op.BACKWARD, FaultInjection.Point.CPU_GRADIENT_APPLY_TASK, hit, CpuBackend::new, 0);
            }
        }
        assertTrue(injected - before >= SHAPES.size() * 3, "faults actually injected: " + (injected - before));
        System.out.println("FaultInjectionTest: " + (injected - before) + " CPU faults injected, each survived");
    }

    @Test
    @Tag(TestData.GPU)
    void aCudaFaultMidStepChangesNothingAndTheNextStepWorks() {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        Supplier<BatchNormBackend> cuda = () -> new CudaBackend(availability.context);
        int before = injected;
        for (Shape shape : CUDA_SHAPES) {
            for (Op op : Op.values()) {
                for (int hit : HITS) {
                    check(shape, op, FaultInjection.Point.CUDA_LAUNCH, hit, cuda, CUresult.CUDA_ERROR_LAUNCH_FAILED);
                    check(shape, op, FaultInjection.Point.CUDA_COPY, hit, cuda, CUresult.CUDA_ERROR_INVALID_VALUE);
                }
                // Allocation happens when a layer first meets a shape: fault the first forward of a fresh layer.
                if (op != Op.BACKWARD) {
                    check(shape, op, FaultInjection.Point.CUDA_ALLOCATION, 1, cuda, CUresult.CUDA_ERROR_OUT_OF_MEMORY);
                }
            }
        }
        System.out.println("FaultInjectionTest: " + (injected - before) + " CUDA faults injected, each survived");
    }

    /**
     * Two identical layers see the same steps; on one, {@code op} fails at the {@code hit}-th time
     * {@code point} is reached. If the op never reaches that point, nothing is injected and the
     * check is only that both layers agree.
     */
    private static void check(Shape shape, Op op, FaultInjection.Point point, int hit,
            Supplier<BatchNormBackend> backend, int cudaError) {
        Random random = new Random(shape.elementCount() * 31 + hit);
        float[] x = TestData.activations(random, shape, 100);
        float[] dy = TestData.gaussian(random, x.length);
        float[] gamma = TestData.uniform(random, shape.channels(), 0.5, 1.5);
        String where = op + " on " + shape + " at " + point + " hit " + hit;
        try (BatchNorm faulted = BatchNorm.builder(shape.channels()).build(backend.get());
                BatchNorm twin = BatchNorm.builder(shape.channels()).build(backend.get())) {
            boolean freshLayer = point == FaultInjection.Point.CUDA_ALLOCATION;
            for (BatchNorm layer : List.of(faulted, twin)) {
                layer.setGamma(gamma);
                if (!freshLayer) {
                    layer.forwardTraining(shape, x, new float[x.length]);
                    layer.backward(shape, x, dy, new float[x.length]);
                    layer.forwardTraining(shape, x, new float[x.length]); // backward differentiates this one
                }
            }
            float[][] before = snapshot(faulted);
            AtomicInteger reached = new AtomicInteger();
            FaultInjection.install(p -> {
                if (p == point && reached.incrementAndGet() == hit) {
                    if (cudaError != 0) {
                        return cudaError;
                    }
                    throw new InjectedFault(p, hit);
                }
                return 0;
            });
            float[] faultedOut = new float[x.length];
            boolean fired;
            try {
                run(faulted, op, shape, x, dy, faultedOut);
                fired = false;
            } catch (InjectedFault | CudaFailureException e) {
                fired = true;
            } finally {
                FaultInjection.clear();
            }
            if (fired) {
                injected++;
                float[][] after = snapshot(faulted);
                if (point == FaultInjection.Point.CUDA_COPY && hit == copiesOf(op)) {
                    run(twin, op, shape, x, dy, new float[x.length]); // the device took the step
                    before = snapshot(twin);
                }
                for (int i = 0; i < before.length; i++) {
                    assertArrayEquals(before[i], after[i], "state item " + i + " changed by the failed " + where);
                }
            } else {
                assertTrue(reached.get() < hit, "the hook fired but the step did not fail: " + where);
                run(twin, op, shape, x, dy, new float[x.length]); // keep the twins in step
            }
            float[] got = new float[x.length];
            float[] want = new float[x.length];
            run(faulted, op, shape, x, dy, got);
            run(twin, op, shape, x, dy, want);
            assertArrayEquals(want, got, "the step after the fault, " + where);
            float[][] a = snapshot(faulted);
            float[][] b = snapshot(twin);
            for (int i = 0; i < a.length; i++) {
                assertArrayEquals(b[i], a[i], "state item " + i + " after the step that followed " + where);
            }
        }
    }

    /** Copies of one CUDA host-array call: x in (and dy for backward), then the output back. */
    private static int copiesOf(Op op) {
        return op == Op.BACKWARD ? 3 : 2;
    }

    private static void run(BatchNorm layer, Op op, Shape shape, float[] x, float[] dy, float[] out) {
        switch (op) {
            case TRAIN -> layer.forwardTraining(shape, x, out);
            case INFERENCE -> layer.forwardInference(shape, x, out);
            case BACKWARD -> layer.backward(shape, x, dy, out);
        }
    }

    private static boolean forwardRan(BatchNorm layer) {
        try {
            layer.savedInvStd();
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private static float[][] snapshot(BatchNorm layer) {
        boolean forwardRan = forwardRan(layer); // saved statistics exist only after one
        return new float[][] {layer.gamma(), layer.beta(), layer.runningMean(), layer.runningVar(),
            {layer.numBatchesTracked()}, forwardRan ? layer.savedMean() : new float[0],
            forwardRan ? layer.savedInvStd() : new float[0], layer.gammaGradient(), layer.betaGradient()};
    }
}

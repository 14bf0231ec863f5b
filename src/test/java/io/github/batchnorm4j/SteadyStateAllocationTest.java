package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.batchnorm4j.internal.cpu.CpuBackend;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Steady-state calls allocate nothing on the Java heap. A class of its own, so it runs in a JVM
 * of its own (pom.xml: reuseForks false) like a user's training loop: after hundreds of other
 * shapes in the same JVM, the JIT can keep the Vector API code in deoptimize-recompile churn,
 * during which every vector operation allocates a box. That churn is transient and reported in
 * the notes; this test checks that the code itself allocates nothing.
 */
class SteadyStateAllocationTest {
    private static final long SEED = 20261121L;

    /**
     * Allocation per call, measured on the calling thread. The JIT may allocate now and then while
     * it recompiles, so the test takes the median of 15 rounds: a per-call allocation would make
     * every round non-zero.
     */
    @Test
    void steadyStateCallsAllocateNothing() {
        Random random = new Random(SEED);
        for (Shape shape : new Shape[] {Shape.nchw(8, 16, 32, 32), Shape.nc(2, 1024), Shape.nc(600, 200),
                Shape.nchw(2, 2, 200, 200)}) {
            float[] x = TestData.activations(random, shape, 0);
            float[] y = new float[x.length];
            float[] dx = new float[x.length];
            try (BatchNorm layer = BatchNorm.builder(shape.channels()).build(new CpuBackend())) {
                long median = Allocation.medianBytes(() -> {
                    layer.forwardTraining(shape, x, y);
                    layer.backward(shape, x, y, dx);
                    layer.forwardInference(shape, x, y);
                });
                assertEquals(0, median, "median bytes allocated by 20 steady-state steps on " + shape);
            }
        }
        Shape single = Shape.nc(1, 1024);
        float[] z = TestData.activations(random, single, 0);
        float[] out = new float[z.length];
        try (BatchNorm layer = BatchNorm.builder(1024).build(new CpuBackend())) {
            long median = Allocation.medianBytes(() -> layer.forwardInference(single, z, out));
            assertEquals(0, median, "median bytes allocated by 20 single-example inferences");
        }
    }
}

package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.internal.FaultInjection;
import io.github.batchnorm4j.internal.FaultInjection.Point;
import io.github.batchnorm4j.internal.cpu.CpuBackend;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The single-thread rule on the CPU backend: while one thread's call is inside a layer (held
 * there by a fault-injection gate), every other public method that touches the layer is refused,
 * and close frees the layer's memory only when that call ends. The CUDA twin is
 * {@code CudaConcurrentUseTest}.
 */
class ConcurrentUseTest {
    private static final Shape SHAPE = Shape.nchw(4, 3, 5, 5);

    @TempDir
    Path folder;

    @AfterEach
    void clearHook() {
        FaultInjection.clear();
    }

    private static BatchNorm layer() {
        return BatchNorm.builder(SHAPE.channels()).batchRenormalization(1, 0).build(new CpuBackend());
    }

    @Test
    void everyMethodIsRefusedWhileAnotherThreadsCallIsInside() throws Exception {
        try (BatchNorm layer = layer()) {
            float[] x = TestData.activations(new Random(1), SHAPE, 5);
            float[] y = new float[x.length];
            layer.forwardTraining(SHAPE, x, y);
            layer.backward(SHAPE, x, x, y);
            Path file = LayerGate.savedState(folder, layer);
            float[] gammaBefore = layer.gamma();
            long countBefore = layer.numBatchesTracked();
            var calls = LayerGate.everyAccessor(layer, SHAPE, file, false);

            LayerGate gate = new LayerGate(Point.CPU_STATISTICS_TASK);
            FaultInjection.install(gate);
            CompletableFuture<Void> inside = CompletableFuture.runAsync(() -> layer.forwardTraining(SHAPE, x, y));
            gate.awaitReached();
            try {
                LayerGate.assertEachRefused(calls);
            } finally {
                gate.release();
            }
            inside.get(60, TimeUnit.SECONDS);
            FaultInjection.clear();
            assertArrayEquals(gammaBefore, layer.gamma(), "a refused setter changed gamma");
            assertEquals(countBefore + 1, layer.numBatchesTracked(), "only the admitted forward counted");
        }
    }

    @Test
    void closeDuringACallLetsItFinishAndRefusesWhatComesAfter() throws Exception {
        float[] x = TestData.activations(new Random(2), SHAPE, 5);
        float[] expected = new float[x.length];
        try (BatchNorm reference = layer()) {
            reference.forwardTraining(SHAPE, x, expected);
        }
        BatchNorm layer = layer();
        float[] y = new float[x.length];
        LayerGate gate = new LayerGate(Point.CPU_STATISTICS_TASK);
        FaultInjection.install(gate);
        CompletableFuture<Void> inside = CompletableFuture.runAsync(() -> layer.forwardTraining(SHAPE, x, y));
        gate.awaitReached();
        layer.close();
        gate.release();
        inside.get(60, TimeUnit.SECONDS);
        assertArrayEquals(expected, y, "the call that was inside at close");
        IllegalStateException error = assertThrows(IllegalStateException.class, layer::gamma);
        assertEquals("layer is closed", error.getMessage());
        layer.close(); // idempotent
    }
}

package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.internal.FaultInjection;
import io.github.batchnorm4j.internal.FaultInjection.Point;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.function.Executable;

/**
 * A fault-injection hook that holds the first thread to reach a point until the test releases
 * it, so a test can act on a layer while one of its calls is certainly inside; and the list of
 * every public method of the facades that touches the layer's state, for such a test to try.
 */
final class LayerGate implements FaultInjection.Hook {
    private final Point point;
    private final AtomicBoolean armed = new AtomicBoolean(true);
    private final CountDownLatch reached = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    LayerGate(Point point) {
        this.point = point;
    }

    @Override
    public int at(Point reachedPoint) {
        if (reachedPoint == point && armed.compareAndSet(true, false)) {
            reached.countDown();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return 0;
    }

    void awaitReached() throws InterruptedException {
        assertTrue(reached.await(60, TimeUnit.SECONDS), "no thread reached " + point);
    }

    void release() {
        release.countDown();
    }

    /**
     * Every public method of BatchNorm, DeviceBatchNorm (where the layer has one) and
     * SyncBatchNorm that reads or writes the layer, by name, for a layer of C channels whose
     * forward of {@code shape} has run; {@code file} is a saved state of such a layer.
     */
    static Map<String, Executable> everyAccessor(BatchNorm layer, Shape shape, Path file, boolean device) {
        int c = layer.config().channels();
        float[] ones = new float[c];
        java.util.Arrays.fill(ones, 1f);
        float[] x = new float[(int) shape.elementCount()];
        float[] out = new float[x.length];
        PopulationStatistics population = new PopulationStatistics(c).add(shape, TestData.activations(
                new java.util.Random(3), shape, 1));
        Map<String, Executable> calls = new LinkedHashMap<>();
        calls.put("forwardTraining", () -> layer.forwardTraining(shape, x, out));
        calls.put("forwardInference", () -> layer.forwardInference(shape, x, out));
        calls.put("backward", () -> layer.backward(shape, x, x, out));
        calls.put("gamma", layer::gamma);
        calls.put("beta", layer::beta);
        calls.put("setGamma", () -> layer.setGamma(ones));
        calls.put("setBeta", () -> layer.setBeta(ones));
        calls.put("runningMean", layer::runningMean);
        calls.put("runningVar", layer::runningVar);
        calls.put("setRunningMean", () -> layer.setRunningMean(ones));
        calls.put("setRunningVar", () -> layer.setRunningVar(ones));
        calls.put("setRunningStatistics", () -> layer.setRunningStatistics(population));
        calls.put("inferenceAffine", layer::inferenceAffine);
        calls.put("numBatchesTracked", layer::numBatchesTracked);
        calls.put("setNumBatchesTracked", () -> layer.setNumBatchesTracked(7));
        calls.put("setRenormLimits", () -> layer.setRenormLimits(2, 1));
        calls.put("renormRmax", layer::renormRmax);
        calls.put("renormDmax", layer::renormDmax);
        calls.put("savedMean", layer::savedMean);
        calls.put("savedInvStd", layer::savedInvStd);
        calls.put("gammaGradient", layer::gammaGradient);
        calls.put("betaGradient", layer::betaGradient);
        calls.put("save", () -> layer.save(file.resolveSibling("racing-save.npz")));
        calls.put("load", () -> layer.load(file));
        calls.put("device", layer::device);
        SyncBatchNorm sync = new SyncBatchNorm(layer);
        calls.put("SyncBatchNorm.forwardTraining", () -> sync.forwardTraining(shape, x, out));
        calls.put("SyncBatchNorm.forwardTrainingEmpty", sync::forwardTrainingEmpty);
        calls.put("SyncBatchNorm.backward", () -> sync.backward(shape, x, x, out));
        calls.put("SyncBatchNorm.backwardEmpty", sync::backwardEmpty);
        if (device) {
            DeviceBatchNorm gpu = layer.device();
            calls.put("DeviceBatchNorm.gamma", gpu::gamma);
            calls.put("DeviceBatchNorm.beta", gpu::beta);
            calls.put("DeviceBatchNorm.gammaGradient", gpu::gammaGradient);
            calls.put("DeviceBatchNorm.betaGradient", gpu::betaGradient);
            calls.put("DeviceBatchNorm.runningMean", gpu::runningMean);
            calls.put("DeviceBatchNorm.runningVar", gpu::runningVar);
            calls.put("DeviceBatchNorm.driverCalls", gpu::driverCalls);
            // forwardTraining, forwardInference and backward on device pointers enter as the host calls do;
            // they are tried with pointers by CudaConcurrentUseTest.
        }
        return calls;
    }

    /** Each call is refused with the single-thread rule's error, naming the call that was let through. */
    static void assertEachRefused(Map<String, Executable> calls) {
        for (Map.Entry<String, Executable> call : calls.entrySet()) {
            IllegalStateException error = assertThrows(IllegalStateException.class, call.getValue(),
                    call.getKey() + " ran while another thread's call was inside the layer");
            assertTrue(error.getMessage().contains("already in use by another thread"),
                    call.getKey() + ": " + error.getMessage());
        }
    }

    /** A renormalizing layer's state file, for the load call of {@link #everyAccessor}. */
    static Path savedState(Path folder, BatchNorm layer) throws java.io.IOException {
        Path file = Files.createTempFile(folder, "state", ".npz");
        layer.save(file);
        return file;
    }
}

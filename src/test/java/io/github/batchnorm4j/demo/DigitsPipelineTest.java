package io.github.batchnorm4j.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.BatchNormRuntime;
import io.github.batchnorm4j.BatchNorm;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The main job, measured: the mission's claim about test-time statistics, on real data. */
class DigitsPipelineTest {
    /**
     * What the test's run (seed 11, 8 epochs, batch 32, 64 hidden units, learning rate 0.1) gives on
     * the CPU backend, measured 2026-12-08: bitwise the same final loss with the Vector API sums and
     * with the scalar ones ({@code -Dbatchnorm4j.cpu.vector=false}) and for 1, 2, 3 and 5 worker
     * threads, so the counts are pinned exactly. (The README's run, seed 7 and 30 epochs, gives
     * 352, 33 and 352 of 359: 98.05%, 9.19%, 98.05%.)
     */
    private static final int TEST_IMAGES = 359;
    /** 96.94%. */
    private static final int RUNNING_AVERAGES_CORRECT = 348;
    /** 9.19%: every input gets the one class beta's output picks, and 33 test images are of that class. */
    private static final int OWN_STATISTICS_CORRECT = 33;
    /** 96.66%. */
    private static final int TEST_SET_STATISTICS_CORRECT = 347;
    /**
     * Mean training loss of the last epoch (0x3fbea75ece22c85c here). Only the softmax's Math.exp
     * is not correctly rounded, and it may differ by an ulp on another JVM or CPU, so the loss is
     * held to a relative 1e-6 rather than to the bit.
     */
    private static final double FINAL_LOSS = 0.11974136860479362;

    @Test
    void runningAveragesWorkOneExampleAtATimeAndOwnStatisticsDoNot() {
        DigitsPipeline.Settings settings = new DigitsPipeline.Settings(11, 8, 32, 64, 0.1f);
        DigitsPipeline.Result result = DigitsPipeline.run(settings, null);
        assertEquals(1797, result.trainCount() + result.testCount());
        assertEquals(TEST_IMAGES, result.testCount(), "held-out images (20% of 1797): " + result);
        if (result.batchNormBackend().startsWith("cpu")) {
            assertEquals(RUNNING_AVERAGES_CORRECT, correct(result.runningAverageAccuracy(), result),
                    "held-out images right with running averages, one example at a time: " + result);
            assertEquals(OWN_STATISTICS_CORRECT, correct(result.ownStatisticsAccuracy(), result),
                    "a single example's own batch statistics make the layer output beta for every input: " + result);
            assertEquals(TEST_SET_STATISTICS_CORRECT, correct(result.testSetStatisticsAccuracy(), result),
                    "whole-test-set statistics: " + result);
            assertEquals(FINAL_LOSS, result.finalLoss(), 1e-6 * FINAL_LOSS, "last epoch's mean loss: " + result);
        } else {
            // CUDA (the plain fork on a machine with a GPU): batch norm's sums and cuBLAS round
            // otherwise, and no figure has been measured there, so only the claim itself is checked.
            assertTrue(result.runningAverageAccuracy() >= 0.90,
                    "held-out accuracy with running averages, one example at a time: " + result);
            assertTrue(result.ownStatisticsAccuracy() <= 0.30,
                    "a single example's own batch statistics make the layer output beta for every input: " + result);
            assertTrue(result.testSetStatisticsAccuracy() >= 0.90, "whole-test-set statistics: " + result);
        }

        DigitsPipeline.Result again = DigitsPipeline.run(settings, null);
        assertEquals(result.runningAverageAccuracy(), again.runningAverageAccuracy(), "deterministic given the seed");
        assertEquals(result.ownStatisticsAccuracy(), again.ownStatisticsAccuracy(), "deterministic given the seed");
        assertEquals(result.testSetStatisticsAccuracy(), again.testSetStatisticsAccuracy(),
                "deterministic given the seed");
        assertEquals(result.finalLoss(), again.finalLoss(), "deterministic given the seed");
    }

    /** An accuracy back to the number of test images it counts (it is correct / testCount). */
    private static long correct(double accuracy, DigitsPipeline.Result result) {
        double images = accuracy * result.testCount();
        long rounded = Math.round(images);
        assertEquals(rounded, images, 1e-9, "not a whole number of images: " + result);
        return rounded;
    }

    @Test
    void cublasMatchesThePlainJavaMultiply() {
        String report = io.github.batchnorm4j.BatchNormRuntime.backendReport();
        org.junit.jupiter.api.Assumptions.assumeTrue(report.startsWith("cuda"), "GPU test skipped: " + report);
        String[] whyNot = new String[1];
        try (MatrixMultiply cublas = CublasMatrixMultiply.tryOpen(whyNot)) {
            org.junit.jupiter.api.Assumptions.assumeTrue(cublas != null, "cuBLAS test skipped: " + whyNot[0]);
            checkAgainstReference(cublas);
        }
    }

    @Test
    void javaMatrixMultiplyMatchesAFloat64ReferenceForEveryTranspose() {
        checkAgainstReference(new JavaMatrixMultiply("test"));
    }

    private static void checkAgainstReference(MatrixMultiply gemm) {
        Random random = new Random(2);
        int m = 7, n = 5, k = 65;
        float[] a = new float[m * k], b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) random.nextGaussian();
        }
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                float[] c = new float[m * n];
                java.util.Arrays.fill(c, 1f);
                gemm.multiply(ta, tb, m, n, k, a, b, c, true);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double want = 1;
                        for (int p = 0; p < k; p++) {
                            double av = ta ? a[p * m + i] : a[i * k + p];
                            double bv = tb ? b[j * k + p] : b[p * n + j];
                            want += av * bv;
                        }
                        assertEquals(want, c[i * n + j], 1e-4, "C[" + i + "][" + j + "] transposes " + ta + "," + tb);
                    }
                }
            }
        }
    }
}

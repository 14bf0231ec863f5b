package io.github.batchnorm4j.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.BatchNormRuntime;
import io.github.batchnorm4j.BatchNorm;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The main job, measured: the mission's claim about test-time statistics, on real data. */
class DigitsPipelineTest {
    @Test
    void runningAveragesWorkOneExampleAtATimeAndOwnStatisticsDoNot() {
        DigitsPipeline.Settings settings = new DigitsPipeline.Settings(11, 8, 32, 64, 0.1f);
        DigitsPipeline.Result result = DigitsPipeline.run(settings, null);
        assertEquals(1797, result.trainCount() + result.testCount());
        assertTrue(result.runningAverageAccuracy() >= 0.90,
                "held-out accuracy with running averages, one example at a time: " + result);
        assertTrue(result.ownStatisticsAccuracy() <= 0.30,
                "a single example's own batch statistics make the layer output beta for every input: " + result);
        assertTrue(result.testSetStatisticsAccuracy() >= 0.90, "whole-test-set statistics: " + result);

        DigitsPipeline.Result again = DigitsPipeline.run(settings, null);
        assertEquals(result.runningAverageAccuracy(), again.runningAverageAccuracy(), "deterministic given the seed");
        assertEquals(result.finalLoss(), again.finalLoss(), "deterministic given the seed");
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

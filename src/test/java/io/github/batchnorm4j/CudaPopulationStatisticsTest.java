package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Population statistics as the running statistics of a layer on the CUDA backend: the same state
 * and inference map as on the CPU, bit for bit, and the same inference within the usual tolerance. Skipped, with
 * the probe's reason, where no CUDA device works.
 */
@Tag(TestData.GPU)
class CudaPopulationStatisticsTest {
    @ParameterizedTest
    @ValueSource(strings = {"NC", "NCHW", "NHWC"})
    void setsTheSameStateAsTheCpu(String layout) {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        Random random = new Random(layout.hashCode());
        Shape batch = layout.equals("NC") ? Shape.nc(65, 7)
                : layout.equals("NCHW") ? Shape.nchw(5, 7, 3, 13) : Shape.nhwc(5, 3, 13, 7);
        PopulationStatistics stats = new PopulationStatistics(7);
        for (int b = 0; b < 3; b++) {
            stats.add(batch, TestData.activations(random, batch, 1e3));
        }
        float[] x = TestData.activations(random, batch, 1e3);
        float[] gamma = TestData.uniform(random, 7, 0.5, 1.5);
        try (BatchNorm gpu = BatchNorm.builder(7).build(new CudaBackend(availability.context));
                BatchNorm cpu = BatchNorm.builder(7).build(new CpuBackend())) {
            float[] yGpu = new float[x.length], yCpu = new float[x.length];
            for (BatchNorm layer : new BatchNorm[] {gpu, cpu}) {
                layer.setGamma(gamma);
                layer.forwardTraining(batch, x, yGpu); // state on the device, stale host copy
                layer.setRunningStatistics(stats);
            }
            assertArrayEquals(cpu.runningMean(), gpu.runningMean());
            assertArrayEquals(cpu.runningVar(), gpu.runningVar());
            assertEquals(3, gpu.numBatchesTracked());
            gpu.forwardInference(batch, x, yGpu);
            cpu.forwardInference(batch, x, yCpu);
            double[] want = Float64Reference.normalize(batch, x,
                    PopulationStatisticsTest.asDoubles(cpu.runningMean()),
                    PopulationStatisticsTest.asDoubles(cpu.runningVar()), 1e-5, gamma, new float[7]);
            Tolerance.assertClose("cuda inference with population statistics", want, yGpu, Tolerance.OUTPUT_ABS,
                    Tolerance.OUTPUT_REL);
            Tolerance.assertClose("cuda vs cpu", yCpu, yGpu, 1e-5, 1e-5);

            // the inference map, read from the device's state, is the CPU layer's bit for bit
            InferenceAffine gpuMap = gpu.inferenceAffine(), cpuMap = cpu.inferenceAffine();
            assertArrayEquals(cpuMap.scale(), gpuMap.scale());
            assertArrayEquals(cpuMap.shift(), gpuMap.shift());

            float[] before = gpu.runningMean();
            assertThrows(IllegalArgumentException.class, () -> gpu.setRunningStatistics(new PopulationStatistics(6)));
            assertArrayEquals(before, gpu.runningMean());
        }
    }
}

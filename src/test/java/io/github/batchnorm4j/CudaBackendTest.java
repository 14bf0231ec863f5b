package io.github.batchnorm4j;

import static io.github.batchnorm4j.Tolerance.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.CudaContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA backend against the CPU path and the fp64 reference, on the same random inputs, for
 * every layout and mode. Skipped, with the probe's reason, where no CUDA device works.
 */
@Tag(TestData.GPU)
class CudaBackendTest {
    private CudaContext cuda;

    @BeforeEach
    void requireCuda() {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        cuda = availability.context;
    }

    static Stream<Shape> shapes() {
        List<Shape> shapes = new ArrayList<>(TestData.awkwardShapes());
        shapes.addAll(TestData.multiChunkShapes());
        shapes.add(Shape.nchw(3, 5, 4, 4)); // float4 path
        shapes.add(Shape.nhwc(2, 3, 3, 8)); // float4 path
        return shapes.stream();
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void matchesTheCpuPathAndTheReference(Shape shape) {
        Random random = new Random(shape.hashCode());
        float[] x = TestData.activations(random, shape, 1e3);
        float[] dy = TestData.gaussian(random, x.length);
        float[] gamma = TestData.uniform(random, shape.channels(), 0.5, 1.5);
        float[] beta = TestData.gaussian(random, shape.channels());
        try (BatchNorm gpu = BatchNorm.builder(shape.channels()).build(new CudaBackend(cuda));
                BatchNorm cpu = BatchNorm.builder(shape.channels()).build(new CpuBackend())) {
            for (BatchNorm layer : new BatchNorm[] {gpu, cpu}) {
                layer.setGamma(gamma);
                layer.setBeta(beta);
            }
            float[] yGpu = new float[x.length], yCpu = new float[x.length];
            for (int step = 0; step < 3; step++) {
                gpu.forwardTraining(shape, x, yGpu);
                cpu.forwardTraining(shape, x, yCpu);
            }
            double[] mean = Float64Reference.mean(shape, x);
            double[] want = Float64Reference.normalize(shape, x, mean, Float64Reference.variance(shape, x, mean), 1e-5,
                    gamma, beta);
            assertClose("cuda y " + shape, want, yGpu, 1e-5, 1e-5);
            assertClose("cuda vs cpu y " + shape, yCpu, yGpu, 1e-5, 1e-5);
            assertClose("running mean " + shape, cpu.runningMean(), gpu.runningMean(), 1e-5, 1e-6);
            assertClose("running var " + shape, cpu.runningVar(), gpu.runningVar(), 1e-6, 1e-5);
            assertEquals(cpu.numBatchesTracked(), gpu.numBatchesTracked());

            float[] dxGpu = new float[x.length], dxCpu = new float[x.length];
            gpu.backward(shape, x, dy, dxGpu);
            cpu.backward(shape, x, dy, dxCpu);
            double scale = Math.sqrt(shape.valuesPerChannel());
            assertClose("cuda dx " + shape, dxCpu, dxGpu, 1e-5, 1e-4);
            assertClose("cuda dgamma " + shape, cpu.gammaGradient(), gpu.gammaGradient(), 2e-6 * scale, 1e-5);
            assertClose("cuda dbeta " + shape, cpu.betaGradient(), gpu.betaGradient(), 2e-6 * scale, 1e-5);

            gpu.forwardInference(shape, x, yGpu);
            cpu.forwardInference(shape, x, yCpu);
            assertClose("cuda inference " + shape, yCpu, yGpu, 1e-5, 1e-5);
            gpu.backward(shape, x, dy, dxGpu);
            cpu.backward(shape, x, dy, dxCpu);
            assertClose("cuda inference dx " + shape, dxCpu, dxGpu, 1e-6, 1e-5);
        }
    }

    /** Issue 5's bound: a training forward in steady state is at most 2 kernel launches. */
    @Test
    void aTrainingForwardIsTwoLaunchesInferenceOneBackwardTwo() {
        for (Shape shape : List.of(Shape.nchw(4, 8, 5, 5), Shape.nhwc(4, 5, 5, 8), Shape.nc(300, 16))) {
            float[] x = TestData.activations(new Random(shape.hashCode()), shape, 10);
            float[] y = new float[x.length];
            CudaBackend backend = new CudaBackend(cuda);
            try (BatchNorm layer = BatchNorm.builder(shape.channels()).build(backend)) {
                layer.forwardTraining(shape, x, y); // buffers grow on the first call
                long before = backend.kernelLaunches();
                layer.forwardTraining(shape, x, y);
                assertEquals(2, backend.kernelLaunches() - before, "training forward launches, " + shape);
                before = backend.kernelLaunches();
                layer.forwardInference(shape, x, y);
                assertEquals(1, backend.kernelLaunches() - before, "inference launches, " + shape);
                before = backend.kernelLaunches();
                layer.backward(shape, x, x, y);
                assertEquals(2, backend.kernelLaunches() - before, "backward launches, " + shape);
            }
        }
    }

    @Test
    void everyAveragingModeMatchesTheCpu() {
        Shape shape = Shape.nchw(4, 3, 5, 5);
        BatchNormBuilder[] builders = {BatchNorm.builder(3), BatchNorm.builder(3).cumulativeAverage(),
            BatchNorm.builder(3).runningVariance(VarianceEstimator.BIASED), BatchNorm.builder(3).decay(0.9)
                    .biasCorrection(true), BatchNorm.builder(3).affine(false).trackRunningStats(false)};
        Random random = new Random(5);
        for (BatchNormBuilder builder : builders) {
            try (BatchNorm gpu = builder.build(new CudaBackend(cuda)); BatchNorm cpu = builder.build(new CpuBackend())) {
                float[] a = new float[(int) shape.elementCount()], b = new float[a.length];
                for (int step = 0; step < 20; step++) {
                    float[] x = TestData.activations(random, shape, 2);
                    gpu.forwardTraining(shape, x, a);
                    cpu.forwardTraining(shape, x, b);
                    assertClose(cpu.config() + " y", b, a, 1e-5, 1e-5);
                }
                if (cpu.config().trackRunningStats()) {
                    assertClose(cpu.config() + " running mean", cpu.runningMean(), gpu.runningMean(), 1e-5, 1e-5);
                    assertClose(cpu.config() + " running var", cpu.runningVar(), gpu.runningVar(), 1e-5, 1e-5);
                }
            }
        }
    }

    @Test
    void nonFiniteBatchLeavesRunningStatisticsUnchanged() {
        Shape shape = Shape.nc(4, 3);
        try (BatchNorm gpu = BatchNorm.builder(3).build(new CudaBackend(cuda))) {
            float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
            gpu.forwardTraining(shape, x, new float[12]);
            float[] mean = gpu.runningMean(), var = gpu.runningVar();
            x[4] = Float.NaN;
            assertThrows(IllegalArgumentException.class, () -> gpu.forwardTraining(shape, x, new float[12]));
            assertClose("mean unchanged", mean, gpu.runningMean(), 0, 0);
            assertClose("var unchanged", var, gpu.runningVar(), 0, 0);
            assertEquals(1, gpu.numBatchesTracked());
        }
    }
}

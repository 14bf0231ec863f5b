package io.github.batchnorm4j;

import static io.github.batchnorm4j.Tolerance.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.io.StateFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fixtures computed by PyTorch 1.13 (scripts/make-golden.py): training steps, running statistics
 * after several batches, inference on one example, backward in both modes.
 */
class PyTorchGoldenTest {
    @TempDir
    static Path temp;

    static Stream<String> cases() {
        return Stream.of("nc_momentum_unbiased", "nc_cumulative_biased", "nchw_momentum_unbiased",
                "nchw_cumulative_unbiased", "nchw_momentum_biased_largemean", "nhwc_momentum_unbiased",
                "nhwc_cumulative_biased");
    }

    static StateFile fixture(String name) throws IOException {
        Path file = temp.resolve(name + ".npz");
        try (InputStream in = PyTorchGoldenTest.class.getResourceAsStream("/golden/" + name + ".npz")) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return StateFile.read(file);
    }

    private static float[] floats(StateFile f, String member) {
        return f.member(member).toFloats();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesPyTorch(String name) throws IOException {
        matchesPyTorch(name, new CpuBackend());
    }

    @ParameterizedTest
    @MethodSource("cases")
    @Tag(TestData.GPU)
    void matchesPyTorchOnCuda(String name) throws IOException {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        matchesPyTorch(name, new CudaBackend(availability.context));
    }

    private static void matchesPyTorch(String name, BatchNormBackend backend) throws IOException {
        StateFile f = fixture(name);
        long[] dims = new long[4];
        f.member("config_shape").data.asLongBuffer().get(dims);
        int layout = (int) f.longScalar("config_layout");
        Shape shape = layout == 0 ? Shape.nc((int) dims[0], (int) dims[1])
                : layout == 1 ? Shape.nchw((int) dims[0], (int) dims[1], (int) dims[2], (int) dims[3])
                : Shape.nhwc((int) dims[0], (int) dims[2], (int) dims[3], (int) dims[1]);
        double momentum = f.doubleScalar("config_momentum");
        BatchNormBuilder builder = BatchNorm.builder(shape.channels()).eps(f.doubleScalar("config_eps"))
                .runningVariance(f.booleanScalar("config_unbiased") ? VarianceEstimator.UNBIASED : VarianceEstimator.BIASED);
        if (Double.isNaN(momentum)) {
            builder.cumulativeAverage();
        } else {
            builder.momentum(momentum);
        }
        try (BatchNorm layer = builder.build(backend)) {
            layer.setGamma(floats(f, "weight"));
            layer.setBeta(floats(f, "bias"));
            long batches = f.longScalar("batches");
            float[] y = new float[(int) shape.elementCount()];
            for (int i = 0; i < batches; i++) {
                layer.forwardTraining(shape, floats(f, "x" + i), y);
                assertClose(name + " y" + i, floats(f, "y" + i), y, 1e-5, 1e-5);
            }
            assertClose(name + " running_mean", floats(f, "running_mean"), layer.runningMean(), 1e-5, 1e-5);
            assertClose(name + " running_var", floats(f, "running_var"), layer.runningVar(), 1e-5, 1e-5);
            assertEquals(f.longScalar("num_batches_tracked"), layer.numBatchesTracked());

            float[] dx = new float[y.length];
            float[] last = floats(f, "x" + (batches - 1));
            layer.backward(shape, last, floats(f, "dy"), dx);
            assertClose(name + " dx", floats(f, "dx"), dx, 1e-5, 1e-4);
            assertClose(name + " dweight", floats(f, "dweight"), layer.gammaGradient(), 1e-5, 1e-4);
            assertClose(name + " dbias", floats(f, "dbias"), layer.betaGradient(), 1e-5, 1e-5);

            float[] xt = floats(f, "xt");
            float[] yt = new float[xt.length];
            Shape single = layout == 0 ? Shape.nc(1, shape.channels())
                    : layout == 1 ? Shape.nchw(1, shape.channels(), shape.height(), shape.width())
                    : Shape.nhwc(1, shape.height(), shape.width(), shape.channels());
            layer.forwardInference(single, xt, yt);
            assertClose(name + " inference of one example", floats(f, "yt"), yt, 1e-5, 1e-5);

            layer.forwardInference(shape, floats(f, "x0"), y);
            layer.backward(shape, floats(f, "x0"), floats(f, "dy_eval"), dx);
            assertClose(name + " eval dx", floats(f, "dx_eval"), dx, 1e-5, 1e-5);
            assertClose(name + " eval dweight", floats(f, "dweight_eval"), layer.gammaGradient(), 1e-5, 1e-4);
            assertClose(name + " eval dbias", floats(f, "dbias_eval"), layer.betaGradient(), 1e-5, 1e-5);
        }
    }

    @Test
    void loadsAPyTorchStateDict() throws IOException {
        Path file = temp.resolve("torch_state_dict.npz");
        try (InputStream in = PyTorchGoldenTest.class.getResourceAsStream("/golden/torch_state_dict.npz")) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        StateFile f = StateFile.read(file);
        try (BatchNorm layer = BatchNorm.builder(6).build()) {
            layer.load(file);
            assertArrayEquals(f.member("weight").toFloats(), layer.gamma());
            assertArrayEquals(f.member("bias").toFloats(), layer.beta());
            assertArrayEquals(f.member("running_mean").toFloats(), layer.runningMean());
            assertArrayEquals(f.member("running_var").toFloats(), layer.runningVar());
            assertEquals(3, layer.numBatchesTracked());
        }
        StateFileException error = org.junit.jupiter.api.Assertions.assertThrows(StateFileException.class,
                () -> BatchNorm.fromFile(file));
        org.junit.jupiter.api.Assertions.assertTrue(error.getMessage().contains(
                "for a plain PyTorch state_dict build the layer and call load"), error.getMessage());
    }
}

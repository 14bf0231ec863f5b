package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.TestData;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.io.StateFile;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bn4j recalibrate} and {@code bn4j fold} with {@code --backend cuda} write what the CPU run writes. */
@Tag(TestData.GPU)
class TestTimeOnCudaTest {
    @TempDir
    Path dir;

    @AfterEach
    void forgetTheBackend() {
        System.clearProperty("batchnorm4j.backend"); // --backend sets it for the whole JVM
    }

    @Test
    void recalibrateAndFoldOnCudaWriteTheCpuResult() throws IOException {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        Path x = golden("x_nhwc.npy"), state = golden("momentum_state.npz"), w = dir.resolve("w.npy");
        CliTest.write(w, new float[] {1, -2, 3, 0.5f, 7, -1}, 3, 2);
        for (String backend : new String[] {"cuda", "cpu"}) {
            CliRun run = CliRun.of("recalibrate", "--backend", backend, "--input", x.toString(), "--layout", "NHWC",
                    "--batch-size", "3", "--state-in", state.toString(), "--state-out",
                    dir.resolve(backend + ".npz").toString());
            assertEquals(0, run.exitCode(), run.toString());
            assertTrue(run.out().contains(" on " + backend), run.out());
            CliRun fold = CliRun.of("fold", "--backend", backend, "--state", dir.resolve(backend + ".npz").toString(),
                    "--weight", w.toString(), "--out", dir.resolve(backend + "_fold.npz").toString());
            assertEquals(0, fold.exitCode(), fold.toString());
        }
        StateFile cuda = StateFile.read(dir.resolve("cuda.npz")), cpu = StateFile.read(dir.resolve("cpu.npz"));
        for (String member : new String[] {StateFile.RUNNING_MEAN, StateFile.RUNNING_VAR, StateFile.WEIGHT}) {
            assertArrayEquals(cpu.channelVector(member, 3, false), cuda.channelVector(member, 3, false), member);
        }
        StateFile cudaFold = StateFile.read(dir.resolve("cuda_fold.npz"));
        StateFile cpuFold = StateFile.read(dir.resolve("cpu_fold.npz"));
        assertArrayEquals(cpuFold.member("weight").toFloats(), cudaFold.member("weight").toFloats());
        assertArrayEquals(cpuFold.member("bias").toFloats(), cudaFold.member("bias").toFloats());
    }

    private Path golden(String name) throws IOException {
        return CliTest.golden(dir, name);
    }
}

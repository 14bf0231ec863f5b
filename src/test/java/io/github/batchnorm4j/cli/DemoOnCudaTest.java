package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.TestData;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The main job with {@code --backend cuda} (the emulator in CI): it runs, says where batch norm and
 * the linear layers ran, and reaches the CPU run's accuracy. Where cuBLAS does not load (always
 * under the emulator) the linear layers fall back to Java and the report says why.
 */
@Tag(TestData.GPU)
class DemoOnCudaTest {
    private static final String[] SETTINGS = {"--epochs", "4", "--seed", "11"};

    @AfterEach
    void forgetTheBackend() {
        System.clearProperty("batchnorm4j.backend"); // --backend sets it for the whole JVM
    }

    @Test
    void theMainJobRunsWithBatchNormOnCuda() {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        CliRun cuda = demo("cuda");
        CliRun cpu = demo("cpu");
        assertTrue(cuda.out().contains("\nbatch norm:      cuda: "), cuda.toString());
        assertTrue(cuda.out().contains("\nlinear layers:   cuBLAS") || cuda.out().contains("\nlinear layers:   plain Java (")
                && !cuda.out().contains("batch norm runs on the CPU"), cuda.toString());
        double running = percent(cuda, "running averages \\(the method\\)");
        assertTrue(running >= 90, "held-out accuracy with running averages on CUDA: " + cuda);
        assertTrue(percent(cuda, "the example's own batch statistics") <= 30, cuda.toString());
        assertEquals(percent(cpu, "running averages \\(the method\\)"), running, 1.0,
                "CUDA and CPU runs of one seed differ by rounding only, so by a few test images at most");
    }

    private static CliRun demo(String backend) {
        String[] args = new String[SETTINGS.length + 3];
        args[0] = "demo";
        args[1] = "--backend";
        args[2] = backend;
        System.arraycopy(SETTINGS, 0, args, 3, SETTINGS.length);
        CliRun run = CliRun.of(args);
        assertEquals(0, run.exitCode(), run.toString());
        return run;
    }

    private static double percent(CliRun run, String label) {
        Matcher m = Pattern.compile(label + "\\s+([0-9.]+)%").matcher(run.out());
        assertTrue(m.find(), "no line '" + label + "' in " + run);
        return Double.parseDouble(m.group(1));
    }
}

package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.internal.backends.BackendChoice;
import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Choosing the backend: property over environment, fallback with a reason, forcing. */
class BackendSelectionTest {
    private final String saved = System.getProperty(BackendChoice.PROPERTY);

    @AfterEach
    void restoreProperty() {
        if (saved == null) {
            System.clearProperty(BackendChoice.PROPERTY);
        } else {
            System.setProperty(BackendChoice.PROPERTY, saved);
        }
    }

    @Test
    void propertyOverridesEnvironmentAndBothDefaultToAuto() {
        assertEquals(BackendChoice.AUTO, BackendChoice.from(null, null));
        assertEquals(BackendChoice.AUTO, BackendChoice.from(" ", ""));
        assertEquals(BackendChoice.CUDA, BackendChoice.from(null, "cuda"));
        assertEquals(BackendChoice.CPU, BackendChoice.from("CPU", "cuda"));
        assertEquals(BackendChoice.AUTO, BackendChoice.from(" auto ", "cpu"));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> BackendChoice.from("gpu", null));
        assertEquals("system property batchnorm4j.backend is 'gpu'; use auto, cpu or cuda", error.getMessage());
        error = assertThrows(IllegalArgumentException.class, () -> BackendChoice.from(null, "tpu"));
        assertEquals("environment variable BATCHNORM4J_BACKEND is 'tpu'; use auto, cpu or cuda", error.getMessage());
    }

    @Test
    void withoutCudaAutoFallsBackToTheCpuAndSaysWhy() {
        CudaAvailability cuda = CudaAvailability.get();
        assumeFalse(cuda.available, "a CUDA device works here (" + cuda.reason + "); the fallback is not exercised");
        assertTrue(cuda.reason.length() > 10, "the reason says what failed: " + cuda.reason);
        System.setProperty(BackendChoice.PROPERTY, "auto");
        try (BatchNorm layer = BatchNorm.builder(3).build()) {
            assertEquals("cpu", layer.backendName());
        }
        assertTrue(BatchNormRuntime.backendReport().startsWith("cpu: CUDA is unavailable: "), BatchNormRuntime.backendReport());
    }

    @Test
    @Tag(TestData.GPU)
    void withCudaAutoPicksItAndSaysWhichDevice() {
        CudaAvailability cuda = CudaAvailability.get();
        assumeTrue(cuda.available, "GPU test skipped: " + cuda.reason);
        System.setProperty(BackendChoice.PROPERTY, "auto");
        try (BatchNorm layer = BatchNorm.builder(3).build()) {
            assertEquals("cuda", layer.backendName());
        }
        assertEquals("cuda: " + cuda.reason, BatchNormRuntime.backendReport());
    }

    @Test
    void forcingCudaWhereItDoesNotWorkIsAClearError() {
        CudaAvailability cuda = CudaAvailability.get();
        assumeFalse(cuda.available, "a CUDA device works here (" + cuda.reason + ")");
        System.setProperty(BackendChoice.PROPERTY, "cuda");
        IllegalStateException error = assertThrows(IllegalStateException.class, () -> BatchNorm.builder(3).build());
        assertTrue(error.getMessage().startsWith("the cuda backend was forced"), error.getMessage());
        assertTrue(error.getMessage().contains(cuda.reason), error.getMessage());
    }

    @Test
    void forcingTheCpuNeverProbes() {
        System.setProperty(BackendChoice.PROPERTY, "cpu");
        try (BatchNorm layer = BatchNorm.builder(3).build()) {
            assertEquals("cpu", layer.backendName());
        }
        assertEquals("cpu: forced by batchnorm4j.backend / BATCHNORM4J_BACKEND", BatchNormRuntime.backendReport());
    }

    @Test
    void badSettingsAreRejectedBeforeAnyBackendIsCreated() {
        System.setProperty(BackendChoice.PROPERTY, "cuda");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> BatchNorm.builder(3).cumulativeAverage().biasCorrection(true).build());
        assertTrue(error.getMessage().contains("cumulative average"), error.getMessage());
    }

    @Test
    void devicePointersNeedTheCudaBackend() {
        try (BatchNorm layer = BatchNorm.builder(3).build(new CpuBackend())) {
            IllegalStateException e = assertThrows(IllegalStateException.class, layer::device);
            assertTrue(e.getMessage().startsWith("this layer runs on the cpu backend; device pointers need the cuda "
                    + "backend"), e.getMessage());
        }
    }
}

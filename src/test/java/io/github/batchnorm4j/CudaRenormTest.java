package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.CudaContext;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batch Renormalization on the CUDA backend: the CPU tests' {@link RenormChecks}, same
 * tolerances. Skipped, with the probe's reason, where no CUDA device works.
 */
@Tag(TestData.GPU)
class CudaRenormTest {
    private CudaContext cuda;

    @BeforeEach
    void requireCuda() {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        cuda = availability.context;
    }

    static Stream<Shape> shapes() {
        return Stream.of(Shape.nc(2, 1), Shape.nc(65, 7), Shape.nchw(7, 3, 5, 13), Shape.nchw(3, 5, 4, 4),
                Shape.nhwc(5, 1, 13, 65), Shape.nhwc(2, 3, 3, 8), Shape.nchw(1, 3, 1009, 1));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void matchesTheReference(Shape shape) {
        RenormChecks.matchesTheReference(() -> new CudaBackend(cuda), shape, 1.5, 0.5);
        RenormChecks.matchesTheReference(() -> new CudaBackend(cuda), shape, 1e6, 1e6);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void isPlainAtTheNeutralLimits(Shape shape) {
        RenormChecks.isPlainAtTheNeutralLimits(() -> new CudaBackend(cuda), shape);
    }
}

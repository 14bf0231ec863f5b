package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.internal.cpu.CpuBackend;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Batch Renormalization on the CPU: {@link RenormChecks}, its settings and their bad values. */
class RenormTest {
    @TempDir
    Path dir;

    static Stream<Shape> shapes() {
        List<Shape> shapes = new ArrayList<>(TestData.awkwardShapes());
        shapes.addAll(TestData.multiChunkShapes());
        return shapes.stream();
    }

    static Stream<Shape> someShapes() {
        return Stream.of(Shape.nc(2, 1), Shape.nc(65, 7), Shape.nchw(7, 3, 5, 13), Shape.nhwc(5, 1, 13, 65),
                Shape.nchw(3, 2, 211, 211), Shape.nc(2053, 1031));
    }

    @ParameterizedTest
    @MethodSource("someShapes")
    void matchesTheReference(Shape shape) {
        RenormChecks.matchesTheReference(CpuBackend::new, shape, 1.5, 0.5); // clipped in most channels
        RenormChecks.matchesTheReference(CpuBackend::new, shape, 1e6, 1e6); // never clipped
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void isPlainAtTheNeutralLimits(Shape shape) {
        RenormChecks.isPlainAtTheNeutralLimits(CpuBackend::new, shape);
    }

    @Test
    void limitsAreCheckedAndKeptWithTheState() throws IOException {
        for (double[] bad : new double[][] {{0.5, 0}, {Double.NaN, 0}, {Double.POSITIVE_INFINITY, 0}, {2, -1},
            {2, Double.NaN}}) {
            assertThrows(IllegalArgumentException.class,
                    () -> BatchNorm.builder(3).batchRenormalization(bad[0], bad[1]));
        }
        IllegalArgumentException untracked = assertThrows(IllegalArgumentException.class,
                () -> BatchNorm.builder(3).batchRenormalization(2, 1).trackRunningStats(false).build());
        assertTrue(untracked.getMessage().contains("trackRunningStats(true)"), untracked.getMessage());
        try (BatchNorm layer = BatchNorm.builder(3).batchRenormalization(2, 1).build(new CpuBackend());
                BatchNorm plain = BatchNorm.builder(3).build(new CpuBackend())) {
            assertThrows(IllegalArgumentException.class, () -> layer.setRenormLimits(0.9, 1));
            assertThrows(IllegalArgumentException.class, () -> layer.setRenormLimits(2, -0.1));
            assertEquals(2, layer.renormRmax());
            assertEquals(1, layer.renormDmax());
            layer.setRenormLimits(3, 5);
            assertThrows(IllegalStateException.class, () -> plain.setRenormLimits(3, 5));
            Path file = dir.resolve("renorm.npz");
            layer.save(file);
            try (BatchNorm loaded = BatchNorm.fromFile(file)) {
                assertTrue(loaded.config().batchRenormalization());
                assertEquals(3, loaded.renormRmax());
                assertEquals(5, loaded.renormDmax());
            }
        }
    }
}

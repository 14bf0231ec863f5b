package io.github.batchnorm4j.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.TestData;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CUDA grids, checked without a GPU: every value in exactly one non-empty block, limits kept. */
class LaunchGeometryTest {
    @Test
    void everyValueFallsInExactlyOneNonEmptyBlockWithinTheLimits() {
        List<Shape> shapes = new ArrayList<>(TestData.awkwardShapes());
        shapes.addAll(TestData.multiChunkShapes());
        shapes.add(Shape.nchw(1, 1, 20000, 20000));   // C = 1 with 4e8 values per channel
        shapes.add(Shape.nc(400_000_000, 1));
        shapes.add(Shape.nhwc(256, 112, 112, 64));
        shapes.add(Shape.nchw(1, 65535, 1, 3));
        shapes.add(Shape.nc(3, 2_000_000));
        int checked = 0;
        for (Shape shape : shapes) {
            for (int sms : new int[] {1, 46, 132, 144}) {
                LaunchGeometry g = LaunchGeometry.reduction(shape, sms);
                long m = shape.valuesPerChannel();
                String where = shape + " on " + sms + " SMs: " + g.blocksPerChannel + " x " + g.perBlock;
                assertTrue(g.blocksPerChannel >= 1 && g.perBlock >= 1, where);
                assertTrue(g.blocksPerChannel * g.perBlock >= m, "covers every value: " + where);
                assertTrue((g.blocksPerChannel - 1) * g.perBlock < m, "no empty block: " + where);
                assertTrue(g.perBlock <= LaunchGeometry.MAX_BLOCK_VALUES, "float counts exact: " + where);
                assertTrue(shape.isChannelsLast() || g.perBlock % 32 == 0, "whole 128-byte lines: " + where);
                assertTrue(g.blocksPerChannel <= Integer.MAX_VALUE, "gridDim.x fits: " + where);
                assertTrue(g.gridY >= 1 && g.gridY <= LaunchGeometry.MAX_GRID_Y, "gridDim.y fits: " + where);
                assertEquals(shape.isChannelsLast() ? (shape.channels() + 31) / 32 : shape.channels(), g.gridY, where);
                checked++;
            }
        }
        assertEquals(shapes.size() * 4, checked);
    }

    @Test
    void tooManyChannelsForTheGridIsAClearError() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> LaunchGeometry.reduction(Shape.nchw(1, 65536, 1, 2), 132));
        assertTrue(error.getMessage().contains("at most 65535 channels for NCHW data"), error.getMessage());
    }

    @Test
    void elementwiseGridsFillTheDeviceAndStayPositive() {
        assertEquals(1, LaunchGeometry.elementwiseBlocks(1, 132));
        assertEquals(4, LaunchGeometry.elementwiseBlocks(1000, 132));
        assertEquals(16 * 132, LaunchGeometry.elementwiseBlocks(1L << 40, 132));
        assertEquals(1, LaunchGeometry.channelBlocks(1));
        assertEquals(65535, LaunchGeometry.channelBlocks(1L << 40));
    }
}

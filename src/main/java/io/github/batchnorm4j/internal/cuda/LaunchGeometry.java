package io.github.batchnorm4j.internal.cuda;

import static io.github.batchnorm4j.internal.cuda.LaunchConstants.BLOCK_THREADS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.CHANNELS_LAST_TILE_CHANNELS;

import io.github.batchnorm4j.Shape;

/**
 * Grid sizes for the CUDA kernels, in plain Java so that CI checks them without a GPU. A
 * reduction splits each channel's m values into {@code blocksPerChannel} blocks of
 * {@code perBlock} (the last may be shorter, none is empty): about four blocks per SM over the
 * whole grid, at least 1024 values (channels-first, in multiples of 32) or 8 rows (channels-last)
 * per block, and at most 2^24 values per block, because per-block counts are floats in the kernels.
 */
final class LaunchGeometry {
    static final long MAX_BLOCK_VALUES = 1L << 24;
    static final int MAX_GRID_Y = 65535;

    final long blocksPerChannel;
    final long perBlock;
    /** gridDim.y of the reduction: C for channels-first, tiles of CHANNELS_LAST_TILE_CHANNELS for channels-last. */
    final int gridY;

    private LaunchGeometry(long blocksPerChannel, long perBlock, int gridY) {
        this.blocksPerChannel = blocksPerChannel;
        this.perBlock = perBlock;
        this.gridY = gridY;
    }

    static LaunchGeometry reduction(Shape shape, int multiprocessors) {
        long m = shape.valuesPerChannel();
        int gridY;
        if (shape.isChannelsLast()) {
            long tiles = ceilDiv(shape.channels(), CHANNELS_LAST_TILE_CHANNELS);
            if (tiles > MAX_GRID_Y) {
                throw new IllegalArgumentException("the CUDA backend takes at most "
                        + (long) CHANNELS_LAST_TILE_CHANNELS * MAX_GRID_Y + " channels, got " + shape);
            }
            gridY = (int) tiles;
        } else {
            if (shape.channels() > MAX_GRID_Y) {
                throw new IllegalArgumentException("the CUDA backend takes at most " + MAX_GRID_Y
                        + " channels for NCHW data, got " + shape);
            }
            gridY = shape.channels();
        }
        long target = 4L * multiprocessors;
        long blocks = Math.max(1, ceilDiv(target, gridY));
        long smallest = shape.isChannelsLast() ? 8 : 1024;
        blocks = Math.min(blocks, Math.max(1, ceilDiv(m, smallest)));
        blocks = Math.max(blocks, ceilDiv(m, MAX_BLOCK_VALUES));
        long perBlock = ceilDiv(m, blocks);
        if (!shape.isChannelsLast()) {
            // Whole 128-byte lines per block (2^24 is a multiple of 32): where planes start on a
            // sector, so does each block, and its warps read whole sectors (design.md, 'Layouts
            // read in whole sectors').
            perBlock = ceilDiv(perBlock, 32) * 32;
        }
        return new LaunchGeometry(ceilDiv(m, perBlock), perBlock, gridY);
    }

    /** Blocks for a grid-stride elementwise kernel over {@code work} items: enough to fill the GPU. */
    static int elementwiseBlocks(long work, int multiprocessors) {
        return (int) Math.max(1, Math.min(ceilDiv(work, BLOCK_THREADS), 16L * multiprocessors));
    }

    /** Blocks for a per-channel kernel over {@code channels} items. */
    static int channelBlocks(long channels) {
        return (int) Math.max(1, Math.min(ceilDiv(channels, BLOCK_THREADS), 65535));
    }

    static long ceilDiv(long a, long b) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }
}

package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.Shape;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * How a {@code .npy} array's dimensions map to a layout: NC is (N, C), NCHW (N, C, H, W), NHWC
 * (N, H, W, C). Rows (the first dimension) are examples; a batch is a run of consecutive rows.
 */
final class TensorLayout {
    enum Kind {
        NC, NCHW, NHWC
    }

    /** The longest float[] every JVM allocates. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    final Kind kind;
    final long rows;
    final int channels;
    final int height;
    final int width;

    private TensorLayout(Kind kind, long rows, int channels, int height, int width) {
        this.kind = kind;
        this.rows = rows;
        this.channels = channels;
        this.height = height;
        this.width = width;
    }

    static TensorLayout of(Kind kind, long[] shape, Path file) {
        int rank = kind == Kind.NC ? 2 : 4;
        if (shape.length != rank) {
            throw new IllegalArgumentException(file + " has shape " + Arrays.toString(shape) + " (rank " + shape.length
                    + ") but layout " + kind + " needs rank " + rank + " " + dimensions(kind));
        }
        for (int i = 1; i < rank; i++) {
            if (shape[i] < 1 || shape[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(file + " has shape " + Arrays.toString(shape) + ": dimension " + i
                        + " must be between 1 and " + Integer.MAX_VALUE + " for layout " + kind + " "
                        + dimensions(kind));
            }
        }
        if (shape[0] < 1) {
            throw new IllegalArgumentException(file + " has no rows (shape " + Arrays.toString(shape) + ")");
        }
        switch (kind) {
            case NC:
                return new TensorLayout(kind, shape[0], (int) shape[1], 1, 1);
            case NCHW:
                return new TensorLayout(kind, shape[0], (int) shape[1], (int) shape[2], (int) shape[3]);
            default:
                return new TensorLayout(kind, shape[0], (int) shape[3], (int) shape[1], (int) shape[2]);
        }
    }

    /** Floats per row (example). */
    long rowSize() {
        return (long) channels * height * width;
    }

    /** The shape of a batch of {@code n} rows. */
    Shape batch(int n) {
        switch (kind) {
            case NC:
                return Shape.nc(n, channels);
            case NCHW:
                return Shape.nchw(n, channels, height, width);
            default:
                return Shape.nhwc(n, height, width, channels);
        }
    }

    /** Values per channel in a batch of {@code n} rows. */
    long valuesPerChannel(long n) {
        return n * height * width;
    }

    /**
     * The rows of the largest batch a {@code --batch-size} of {@code batchSize} reads, after
     * checking it is at least 1 and that such a batch fits one Java array.
     */
    long checkedBatchRows(long batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        long batchRows = Math.min(batchSize, rows);
        checkBatchFits(batchRows, "use --batch-size " + maxRowsPerArray() + " or less");
        return batchRows;
    }

    /** Refuses batches of {@code batchRows} rows whose values would not fit one Java array. */
    void checkBatchFits(long batchRows, String advice) {
        long floats = batchRows * rowSize();
        if (floats > MAX_ARRAY) {
            throw new IllegalArgumentException("a batch of " + batchRows + " row(s) holds " + floats
                    + " floats, more than one Java array holds (" + MAX_ARRAY + "); " + advice);
        }
    }

    /** The most rows whose values fit one Java array. */
    long maxRowsPerArray() {
        return MAX_ARRAY / rowSize();
    }

    private static String dimensions(Kind kind) {
        switch (kind) {
            case NC:
                return "(N, C)";
            case NCHW:
                return "(N, C, H, W)";
            default:
                return "(N, H, W, C)";
        }
    }
}

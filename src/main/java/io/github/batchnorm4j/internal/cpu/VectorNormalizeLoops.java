package io.github.batchnorm4j.internal.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link NormalizeLoops} with the Vector API, 8 floats at a time; the tail of each loop is the plain
 * code. Loaded only when the incubator module is present.
 */
final class VectorNormalizeLoops {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_256;

    /** Floats per vector; the dispatching class sends rows here as whole rows only in whole vectors of it. */
    private static final int W = RunSums.LANES;

    /** Rows per block in the channels-last loops. */
    private static final int R = 4;

    private VectorNormalizeLoops() {
    }

    static void normalize(float[] x, int xi, float[] y, int yi, int len, float center, float scale, float shift) {
        int i = 0;
        for (; i <= len - W; i += W) {
            FloatVector.fromArray(SPECIES, x, xi + i).sub(center).mul(scale).add(shift).intoArray(y, yi + i);
        }
        for (; i < len; i++) {
            y[yi + i] = (x[xi + i] - center) * scale + shift;
        }
    }

    /**
     * Rows of channels-last data, {@value #R} at a time when {@code shareLoads}: each coefficient
     * vector is then loaded once per block of rows instead of once per row (in cache that halves
     * the time per value for C = 64). Short rows streamed from memory go faster one at a time
     * (design.md, 'Short rows one at a time'); the caller chooses. Both orders give the same bits. Whole rows back to
     * back have their own loop, {@link #normalizeWholeRows}.
     *
     * <p>Every vector expression is written out here, none in a helper taking FloatVector
     * arguments: C2 compiles a call site it saw cold (the one-row tail, after a run of batches) as
     * a real call, and the vectors passed to it are then boxed on every row. That took single-row
     * NC (1,1024) inference from 0.17 us to 4-87 us in some benchmark runs (design.md, 'No helper takes vector arguments').
     */
    static void normalizeRows(float[] x, int xi, float[] y, int yi, int rows, int stride, int c0, int c1,
            float[] center, float[] scale, float[] shift, boolean shareLoads) {
        int r = 0;
        for (; shareLoads && r <= rows - R; r += R) {
            int xr = xi + r * stride, yr = yi + r * stride;
            int c = c0;
            for (; c <= c1 - W; c += W) {
                FloatVector m = FloatVector.fromArray(SPECIES, center, c);
                FloatVector s = FloatVector.fromArray(SPECIES, scale, c), t = FloatVector.fromArray(SPECIES, shift, c);
                // unrolled by hand: C2 compiled a 4-trip inner loop 1.5-2x slower (measured)
                int p = xr + c, q = yr + c;
                FloatVector.fromArray(SPECIES, x, p).sub(m).mul(s).add(t).intoArray(y, q);
                FloatVector.fromArray(SPECIES, x, p + stride).sub(m).mul(s).add(t).intoArray(y, q + stride);
                FloatVector.fromArray(SPECIES, x, p + 2 * stride).sub(m).mul(s).add(t)
                        .intoArray(y, q + 2 * stride);
                FloatVector.fromArray(SPECIES, x, p + 3 * stride).sub(m).mul(s).add(t)
                        .intoArray(y, q + 3 * stride);
            }
            ScalarNormalizeLoops.normalizeRows(x, xr, y, yr, R, stride, c, c1, center, scale, shift);
        }
        for (; r < rows; r++) {
            int xr = xi + r * stride, yr = yi + r * stride;
            int c = c0;
            for (; c <= c1 - W; c += W) {
                FloatVector.fromArray(SPECIES, x, xr + c).sub(FloatVector.fromArray(SPECIES, center, c))
                        .mul(FloatVector.fromArray(SPECIES, scale, c))
                        .add(FloatVector.fromArray(SPECIES, shift, c)).intoArray(y, yr + c);
            }
            ScalarNormalizeLoops.normalizeRows(x, xr, y, yr, 1, stride, c, c1, center, scale, shift);
        }
    }

    /**
     * {@link #normalizeRows} one row at a time for whole rows back to back (c0 = 0, c1 = stride, a
     * multiple of {@value #W}): one loop over all their values, the channel index wrapping to 0 at
     * each row's end. An inner loop of 64 or 128 vectors per row streamed 1.3-1.6x slower than this
     * (design.md, 'Channels-last whole rows in one loop'). A method of its own: added to the rows loops' method, such a loop made C2
     * compile their 4-row loops up to 1.7x slower (design.md, 'Methods of their own for C2').
     */
    static void normalizeWholeRows(float[] x, int xi, float[] y, int yi, int rows, int stride, float[] center,
            float[] scale, float[] shift) {
        for (int i = 0, end = rows * stride, c = 0; i < end; i += W) {
            FloatVector.fromArray(SPECIES, x, xi + i).sub(FloatVector.fromArray(SPECIES, center, c))
                    .mul(FloatVector.fromArray(SPECIES, scale, c))
                    .add(FloatVector.fromArray(SPECIES, shift, c)).intoArray(y, yi + i);
            c += W;
            if (c == stride) {
                c = 0;
            }
        }
    }
}

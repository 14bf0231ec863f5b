package io.github.batchnorm4j.internal.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link StatisticsLoops} with the Vector API, 8 floats at a time; the tail of each loop is the
 * plain code. Loaded only when the incubator module is present.
 */
final class VectorStatisticsLoops {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_256;

    /** Doubles of the same 256-bit shape: a float vector widens into two of them. */
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_256;

    /** Floats per vector; the dispatching class sends rows here as whole rows only in whole vectors of it. */
    private static final int W = RunSums.LANES;

    /** Rows per block in the channels-last loops. */
    private static final int R = 4;

    private VectorStatisticsLoops() {
    }

    /**
     * Channels-last rows into per-channel float lanes, {@value #R} rows per load and store of the
     * lanes. Each lane still adds its rows in row order, so the sums are those of one row at a time.
     */
    static void accumulateShiftedRows(float[] x, int xi, int rows, int stride, float[] k, float[] s, float[] q,
            int at, int c0, int c1) {
        int r = 0;
        for (; r <= rows - R; r += R) {
            int xr = xi + r * stride;
            int c = c0;
            for (; c <= c1 - W; c += W) {
                FloatVector kv = FloatVector.fromArray(SPECIES, k, at + c);
                FloatVector sv = FloatVector.fromArray(SPECIES, s, at + c);
                FloatVector qv = FloatVector.fromArray(SPECIES, q, at + c);
                // unrolled by hand: C2 compiled a 4-trip inner loop 1.5-2x slower (measured)
                int p = xr + c;
                FloatVector d0 = FloatVector.fromArray(SPECIES, x, p).sub(kv);
                FloatVector d1 = FloatVector.fromArray(SPECIES, x, p + stride).sub(kv);
                FloatVector d2 = FloatVector.fromArray(SPECIES, x, p + 2 * stride).sub(kv);
                FloatVector d3 = FloatVector.fromArray(SPECIES, x, p + 3 * stride).sub(kv);
                sv = sv.add(d0).add(d1).add(d2).add(d3);
                qv = d3.fma(d3, d2.fma(d2, d1.fma(d1, d0.fma(d0, qv))));
                sv.intoArray(s, at + c);
                qv.intoArray(q, at + c);
            }
            ScalarStatisticsLoops.accumulateShiftedRows(x, xr, R, stride, k, s, q, at, c, c1);
        }
        for (; r < rows; r++) {
            int xr = xi + r * stride;
            int c = c0;
            for (; c <= c1 - W; c += W) {
                FloatVector d = FloatVector.fromArray(SPECIES, x, xr + c).sub(FloatVector.fromArray(SPECIES, k, at + c));
                FloatVector.fromArray(SPECIES, s, at + c).add(d).intoArray(s, at + c);
                d.fma(d, FloatVector.fromArray(SPECIES, q, at + c)).intoArray(q, at + c);
            }
            ScalarStatisticsLoops.accumulateShiftedRows(x, xr, 1, stride, k, s, q, at, c, c1);
        }
    }

    /**
     * {@link #accumulateShiftedRows} for row segments of exactly 64 channels (8 vectors), a common
     * channels-last width: the 16 lanes stay in registers across all the rows, loaded and stored
     * once per call, and x is read row after row in memory order. Each lane adds its rows in row
     * order, so the sums are those of one row at a time. A scratch probe timed it at 0.048 against
     * the 4-row loop's 0.083 ns per value in cache and 0.107 against 0.14 from memory (design.md,
     * 'Rows of 64 in registers'). Vector expressions written out, as in {@link #normalizeRows}.
     */
    static void accumulateShiftedRowsOf64(float[] x, int xi, int rows, int stride, float[] k, float[] s, float[] q,
            int at) {
        FloatVector s0 = FloatVector.fromArray(SPECIES, s, at), s1 = FloatVector.fromArray(SPECIES, s, at + 8);
        FloatVector s2 = FloatVector.fromArray(SPECIES, s, at + 16), s3 = FloatVector.fromArray(SPECIES, s, at + 24);
        FloatVector s4 = FloatVector.fromArray(SPECIES, s, at + 32), s5 = FloatVector.fromArray(SPECIES, s, at + 40);
        FloatVector s6 = FloatVector.fromArray(SPECIES, s, at + 48), s7 = FloatVector.fromArray(SPECIES, s, at + 56);
        FloatVector q0 = FloatVector.fromArray(SPECIES, q, at), q1 = FloatVector.fromArray(SPECIES, q, at + 8);
        FloatVector q2 = FloatVector.fromArray(SPECIES, q, at + 16), q3 = FloatVector.fromArray(SPECIES, q, at + 24);
        FloatVector q4 = FloatVector.fromArray(SPECIES, q, at + 32), q5 = FloatVector.fromArray(SPECIES, q, at + 40);
        FloatVector q6 = FloatVector.fromArray(SPECIES, q, at + 48), q7 = FloatVector.fromArray(SPECIES, q, at + 56);
        for (int r = 0, p = xi; r < rows; r++, p += stride) {
            FloatVector d0 = FloatVector.fromArray(SPECIES, x, p).sub(FloatVector.fromArray(SPECIES, k, at));
            FloatVector d1 = FloatVector.fromArray(SPECIES, x, p + 8).sub(FloatVector.fromArray(SPECIES, k, at + 8));
            FloatVector d2 = FloatVector.fromArray(SPECIES, x, p + 16).sub(FloatVector.fromArray(SPECIES, k, at + 16));
            FloatVector d3 = FloatVector.fromArray(SPECIES, x, p + 24).sub(FloatVector.fromArray(SPECIES, k, at + 24));
            FloatVector d4 = FloatVector.fromArray(SPECIES, x, p + 32).sub(FloatVector.fromArray(SPECIES, k, at + 32));
            FloatVector d5 = FloatVector.fromArray(SPECIES, x, p + 40).sub(FloatVector.fromArray(SPECIES, k, at + 40));
            FloatVector d6 = FloatVector.fromArray(SPECIES, x, p + 48).sub(FloatVector.fromArray(SPECIES, k, at + 48));
            FloatVector d7 = FloatVector.fromArray(SPECIES, x, p + 56).sub(FloatVector.fromArray(SPECIES, k, at + 56));
            s0 = s0.add(d0);
            s1 = s1.add(d1);
            s2 = s2.add(d2);
            s3 = s3.add(d3);
            s4 = s4.add(d4);
            s5 = s5.add(d5);
            s6 = s6.add(d6);
            s7 = s7.add(d7);
            q0 = d0.fma(d0, q0);
            q1 = d1.fma(d1, q1);
            q2 = d2.fma(d2, q2);
            q3 = d3.fma(d3, q3);
            q4 = d4.fma(d4, q4);
            q5 = d5.fma(d5, q5);
            q6 = d6.fma(d6, q6);
            q7 = d7.fma(d7, q7);
        }
        s0.intoArray(s, at);
        s1.intoArray(s, at + 8);
        s2.intoArray(s, at + 16);
        s3.intoArray(s, at + 24);
        s4.intoArray(s, at + 32);
        s5.intoArray(s, at + 40);
        s6.intoArray(s, at + 48);
        s7.intoArray(s, at + 56);
        q0.intoArray(q, at);
        q1.intoArray(q, at + 8);
        q2.intoArray(q, at + 16);
        q3.intoArray(q, at + 24);
        q4.intoArray(q, at + 32);
        q5.intoArray(q, at + 40);
        q6.intoArray(q, at + 48);
        q7.intoArray(q, at + 56);
    }

    /**
     * {@link #accumulateShiftedRows} for segments wider than 64 channels of rows of at most 256:
     * one column of 64 channels after another through {@link #accumulateShiftedRowsOf64}, the
     * last narrower column through the 4-row loop. Each lane still adds its rows in row order.
     * Rows of 1 KiB or less put 4 or more rows in a 4 KiB page, where walking a column down the
     * rows streamed fine; NHWC 80-256 channels trained 13-28% faster (10-15% with AVX2). Rows of
     * 4 KiB (NC (4096,1024)) walked that way were 16% slower (design.md, 'Columns of 64').
     */
    static void accumulateShiftedColumnsOf64(float[] x, int xi, int rows, int stride, float[] k, float[] s,
            float[] q, int at, int c0, int c1) {
        int c = c0;
        for (; c <= c1 - 64; c += 64) {
            accumulateShiftedRowsOf64(x, xi + c, rows, stride, k, s, q, at + c);
        }
        if (c < c1) {
            accumulateShiftedRows(x, xi, rows, stride, k, s, q, at, c, c1);
        }
    }

    /**
     * {@link #accumulateShiftedRows} for segments of at least 256 channels in rows longer than
     * 256: 8 rows per load and store of the lanes, the rest as there. Each lane still adds its
     * rows in row order, so the sums are those of one row at a time. It loads and stores a lane
     * once per 8 vectors of x, where the one-loop form it replaced (as {@link #normalizeWholeRows})
     * did so per vector; NC (4096,1024) training ran 7-28% faster (design.md, 'Eight rows per load'). Segments of
     * 64 channels, and rows of at most 256, go through the lanes-in-registers loops
     * ({@link #accumulateShiftedRowsOf64}, {@link #accumulateShiftedColumnsOf64}); other narrower
     * segments keep the 4-row loop (8 rows measured 6-10% slower than 4 at 64 channels). The
     * vector expressions are written out, as in {@link #normalizeRows}.
     */
    static void accumulateShiftedEightRows(float[] x, int xi, int rows, int stride, float[] k, float[] s, float[] q,
            int at, int c0, int c1) {
        int r = 0;
        for (; r <= rows - 8; r += 8) {
            int xr = xi + r * stride;
            int c = c0;
            for (; c <= c1 - W; c += W) {
                FloatVector kv = FloatVector.fromArray(SPECIES, k, at + c);
                int p = xr + c;
                FloatVector d0 = FloatVector.fromArray(SPECIES, x, p).sub(kv);
                FloatVector d1 = FloatVector.fromArray(SPECIES, x, p + stride).sub(kv);
                FloatVector d2 = FloatVector.fromArray(SPECIES, x, p + 2 * stride).sub(kv);
                FloatVector d3 = FloatVector.fromArray(SPECIES, x, p + 3 * stride).sub(kv);
                FloatVector d4 = FloatVector.fromArray(SPECIES, x, p + 4 * stride).sub(kv);
                FloatVector d5 = FloatVector.fromArray(SPECIES, x, p + 5 * stride).sub(kv);
                FloatVector d6 = FloatVector.fromArray(SPECIES, x, p + 6 * stride).sub(kv);
                FloatVector d7 = FloatVector.fromArray(SPECIES, x, p + 7 * stride).sub(kv);
                FloatVector sv = FloatVector.fromArray(SPECIES, s, at + c);
                sv = sv.add(d0).add(d1).add(d2).add(d3).add(d4).add(d5).add(d6).add(d7);
                FloatVector qv = FloatVector.fromArray(SPECIES, q, at + c);
                qv = d3.fma(d3, d2.fma(d2, d1.fma(d1, d0.fma(d0, qv))));
                qv = d7.fma(d7, d6.fma(d6, d5.fma(d5, d4.fma(d4, qv))));
                sv.intoArray(s, at + c);
                qv.intoArray(q, at + c);
            }
            ScalarStatisticsLoops.accumulateShiftedRows(x, xr, 8, stride, k, s, q, at, c, c1);
        }
        if (r < rows) {
            accumulateShiftedRows(x, xi + r * stride, rows - r, stride, k, s, q, at, c0, c1);
        }
    }

    /**
     * {@link StatisticsLoops#foldLanes}: each float vector widens into two double vectors. The
     * plain loop stayed scalar and took a fifth of the NC (4096,1024) gradient sums, which fold
     * every 16 rows (design.md, 'Lanes folded through vectors').
     */
    static void foldLanes(float[] s, float[] q, double[] a, double[] b, int from, int to) {
        FloatVector zero = FloatVector.zero(SPECIES);
        int i = from;
        for (; i <= to - W; i += W) {
            FloatVector sv = FloatVector.fromArray(SPECIES, s, i);
            FloatVector qv = FloatVector.fromArray(SPECIES, q, i);
            DoubleVector.fromArray(DOUBLES, a, i).add((DoubleVector) sv.convertShape(VectorOperators.F2D, DOUBLES, 0))
                    .intoArray(a, i);
            DoubleVector.fromArray(DOUBLES, a, i + 4).add((DoubleVector) sv.convertShape(VectorOperators.F2D, DOUBLES, 1))
                    .intoArray(a, i + 4);
            DoubleVector.fromArray(DOUBLES, b, i).add((DoubleVector) qv.convertShape(VectorOperators.F2D, DOUBLES, 0))
                    .intoArray(b, i);
            DoubleVector.fromArray(DOUBLES, b, i + 4).add((DoubleVector) qv.convertShape(VectorOperators.F2D, DOUBLES, 1))
                    .intoArray(b, i + 4);
            zero.intoArray(s, i);
            zero.intoArray(q, i);
        }
        ScalarStatisticsLoops.foldLanes(s, q, a, b, i, to);
    }
}

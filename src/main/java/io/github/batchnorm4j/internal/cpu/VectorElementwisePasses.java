package io.github.batchnorm4j.internal.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ElementwisePasses} with the Vector API, 8 floats at a time; the tail of each loop is the
 * plain code. Loaded only when the incubator module is present.
 */
final class VectorElementwisePasses {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_256;
    /** Doubles of the same 256-bit shape: a float vector widens into two of them. */
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_256;
    /** Floats per vector; ElementwisePasses sends rows here as whole rows only in whole vectors of it. */
    private static final int W = RunSums.LANES;
    /** Rows per block in the channels-last loops. */
    private static final int R = 4;

    private VectorElementwisePasses() {
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
     * (NOTES section 20); the caller chooses. Both orders give the same bits. Whole rows back to
     * back have their own loop, {@link #normalizeWholeRows}.
     *
     * <p>Every vector expression is written out here, none in a helper taking FloatVector
     * arguments: C2 compiles a call site it saw cold (the one-row tail, after a run of batches) as
     * a real call, and the vectors passed to it are then boxed on every row. That took single-row
     * NC (1,1024) inference from 0.17 us to 4-87 us in some benchmark runs (NOTES section 10).
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
            ScalarElementwisePasses.normalizeRows(x, xr, y, yr, R, stride, c, c1, center, scale, shift);
        }
        for (; r < rows; r++) {
            int xr = xi + r * stride, yr = yi + r * stride;
            int c = c0;
            for (; c <= c1 - W; c += W) {
                FloatVector.fromArray(SPECIES, x, xr + c).sub(FloatVector.fromArray(SPECIES, center, c))
                        .mul(FloatVector.fromArray(SPECIES, scale, c))
                        .add(FloatVector.fromArray(SPECIES, shift, c)).intoArray(y, yr + c);
            }
            ScalarElementwisePasses.normalizeRows(x, xr, y, yr, 1, stride, c, c1, center, scale, shift);
        }
    }

    static void gradientApply(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int len, float center,
            float k, float kc, float k0) {
        int i = 0;
        for (; i <= len - W; i += W) {
            FloatVector centered = FloatVector.fromArray(SPECIES, x, xi + i).sub(center);
            FloatVector.fromArray(SPECIES, dy, dyi + i).mul(k).sub(centered.mul(kc)).sub(k0).intoArray(dx, dxi + i);
        }
        for (; i < len; i++) {
            dx[dxi + i] = k * dy[dyi + i] - kc * (x[xi + i] - center) - k0;
        }
    }

    /**
     * {@link #gradientApply} on rows of channels-last data, coefficients loaded once per {@value #R}
     * rows, the last rows through {@link #gradientApplyRowByRow}; vector expressions written out,
     * as in {@link #normalizeRows}.
     */
    static void gradientApplyRows(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int rows, int stride,
            int c0, int c1, float[] center, float[] k, float[] kc, float[] k0, float[] packed) {
        int r = 0;
        for (; r <= rows - R; r += R) {
            int o = r * stride;
            int c = c0;
            for (; c <= c1 - W; c += W) {
                FloatVector m = FloatVector.fromArray(SPECIES, center, c);
                FloatVector kv = FloatVector.fromArray(SPECIES, k, c), kcv = FloatVector.fromArray(SPECIES, kc, c);
                FloatVector k0v = FloatVector.fromArray(SPECIES, k0, c);
                int j = o + c;
                FloatVector e0 = FloatVector.fromArray(SPECIES, x, xi + j).sub(m);
                FloatVector.fromArray(SPECIES, dy, dyi + j).mul(kv).sub(e0.mul(kcv)).sub(k0v).intoArray(dx, dxi + j);
                j += stride;
                FloatVector e1 = FloatVector.fromArray(SPECIES, x, xi + j).sub(m);
                FloatVector.fromArray(SPECIES, dy, dyi + j).mul(kv).sub(e1.mul(kcv)).sub(k0v).intoArray(dx, dxi + j);
                j += stride;
                FloatVector e2 = FloatVector.fromArray(SPECIES, x, xi + j).sub(m);
                FloatVector.fromArray(SPECIES, dy, dyi + j).mul(kv).sub(e2.mul(kcv)).sub(k0v).intoArray(dx, dxi + j);
                j += stride;
                FloatVector e3 = FloatVector.fromArray(SPECIES, x, xi + j).sub(m);
                FloatVector.fromArray(SPECIES, dy, dyi + j).mul(kv).sub(e3.mul(kcv)).sub(k0v).intoArray(dx, dxi + j);
            }
            ScalarElementwisePasses.gradientApplyRows(dy, dyi + o, x, xi + o, dx, dxi + o, R, stride, c, c1, center, k,
                    kc, k0);
        }
        if (r < rows) {
            int o = r * stride;
            gradientApplyRowByRow(dy, dyi + o, x, xi + o, dx, dxi + o, rows - r, stride, c0, c1, center, k, kc, k0,
                    packed);
        }
    }

    /**
     * {@link #gradientApply} on rows of channels-last data one row at a time, the vectors reading
     * their coefficients from {@code packed} (one array, not four): NC (4096,1024)'s dx pass ran
     * 13-26% faster (NOTES section 33). Channels before the first whole group of 8 and after the
     * last go through the plain code. A method of its own, as the loops of NOTES section 24.
     */
    static void gradientApplyRowByRow(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int rows,
            int stride, int c0, int c1, float[] center, float[] k, float[] kc, float[] k0, float[] packed) {
        int head = Math.min(c1, (c0 + W - 1) / W * W); // the first channel of a whole group
        for (int r = 0; r < rows; r++) {
            int o = r * stride;
            ScalarElementwisePasses.gradientApplyRows(dy, dyi + o, x, xi + o, dx, dxi + o, 1, stride, c0, head, center,
                    k, kc, k0);
            int c = head;
            for (; c <= c1 - W; c += W) {
                int j = o + c;
                // group c / W of 4 * W floats, as ElementwisePasses.packGradientCoefficients lays them out
                int p = c * 4;
                FloatVector centered = FloatVector.fromArray(SPECIES, x, xi + j)
                        .sub(FloatVector.fromArray(SPECIES, packed, p));
                FloatVector.fromArray(SPECIES, dy, dyi + j).mul(FloatVector.fromArray(SPECIES, packed, p + W))
                        .sub(centered.mul(FloatVector.fromArray(SPECIES, packed, p + 2 * W)))
                        .sub(FloatVector.fromArray(SPECIES, packed, p + 3 * W)).intoArray(dx, dxi + j);
            }
            ScalarElementwisePasses.gradientApplyRows(dy, dyi + o, x, xi + o, dx, dxi + o, 1, stride, c, c1, center, k,
                    kc, k0);
        }
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
            ScalarElementwisePasses.accumulateShiftedRows(x, xr, R, stride, k, s, q, at, c, c1);
        }
        for (; r < rows; r++) {
            int xr = xi + r * stride;
            int c = c0;
            for (; c <= c1 - W; c += W) {
                FloatVector d = FloatVector.fromArray(SPECIES, x, xr + c).sub(FloatVector.fromArray(SPECIES, k, at + c));
                FloatVector.fromArray(SPECIES, s, at + c).add(d).intoArray(s, at + c);
                d.fma(d, FloatVector.fromArray(SPECIES, q, at + c)).intoArray(q, at + c);
            }
            ScalarElementwisePasses.accumulateShiftedRows(x, xr, 1, stride, k, s, q, at, c, c1);
        }
    }

    /** Channels-last gradient sums into per-channel float lanes, as {@link #accumulateShiftedRows}. */
    static void accumulateGradientRows(float[] dy, int dyi, float[] x, int xi, int rows, int stride, float[] k,
            float[] g, float[] h, int at, int c0, int c1) {
        int r = 0;
        for (; r <= rows - R; r += R) {
            int o = r * stride;
            int c = c0;
            for (; c <= c1 - W; c += W) {
                FloatVector kv = FloatVector.fromArray(SPECIES, k, at + c);
                FloatVector gv = FloatVector.fromArray(SPECIES, g, at + c);
                FloatVector hv = FloatVector.fromArray(SPECIES, h, at + c);
                int j = o + c;
                FloatVector d0 = FloatVector.fromArray(SPECIES, dy, dyi + j);
                FloatVector d1 = FloatVector.fromArray(SPECIES, dy, dyi + j + stride);
                FloatVector d2 = FloatVector.fromArray(SPECIES, dy, dyi + j + 2 * stride);
                FloatVector d3 = FloatVector.fromArray(SPECIES, dy, dyi + j + 3 * stride);
                gv = gv.add(d0).add(d1).add(d2).add(d3);
                hv = d0.fma(FloatVector.fromArray(SPECIES, x, xi + j).sub(kv), hv);
                hv = d1.fma(FloatVector.fromArray(SPECIES, x, xi + j + stride).sub(kv), hv);
                hv = d2.fma(FloatVector.fromArray(SPECIES, x, xi + j + 2 * stride).sub(kv), hv);
                hv = d3.fma(FloatVector.fromArray(SPECIES, x, xi + j + 3 * stride).sub(kv), hv);
                gv.intoArray(g, at + c);
                hv.intoArray(h, at + c);
            }
            ScalarElementwisePasses.accumulateGradientRows(dy, dyi + o, x, xi + o, R, stride, k, g, h, at, c, c1);
        }
        for (; r < rows; r++) {
            int o = r * stride;
            int c = c0;
            for (; c <= c1 - W; c += W) {
                FloatVector d = FloatVector.fromArray(SPECIES, dy, dyi + o + c);
                FloatVector centered = FloatVector.fromArray(SPECIES, x, xi + o + c)
                        .sub(FloatVector.fromArray(SPECIES, k, at + c));
                FloatVector.fromArray(SPECIES, g, at + c).add(d).intoArray(g, at + c);
                d.fma(centered, FloatVector.fromArray(SPECIES, h, at + c)).intoArray(h, at + c);
            }
            ScalarElementwisePasses.accumulateGradientRows(dy, dyi + o, x, xi + o, 1, stride, k, g, h, at, c, c1);
        }
    }

    /**
     * {@link #accumulateShiftedRows} for row segments of exactly 64 channels (8 vectors), a common
     * channels-last width: the 16 lanes stay in registers across all the rows, loaded and stored
     * once per call, and x is read row after row in memory order. Each lane adds its rows in row
     * order, so the sums are those of one row at a time. A scratch probe timed it at 0.048 against
     * the 4-row loop's 0.083 ns per value in cache and 0.107 against 0.14 from memory (NOTES
     * section 28). Vector expressions written out, as in {@link #normalizeRows}.
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
     * 4 KiB (NC (4096,1024)) walked that way were 16% slower (NOTES section 31).
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
     * {@link #accumulateGradientRows} for row segments of exactly 64 channels, the lanes in
     * registers as in {@link #accumulateShiftedRowsOf64}.
     */
    static void accumulateGradientRowsOf64(float[] dy, int dyi, float[] x, int xi, int rows, int stride, float[] k,
            float[] g, float[] h, int at) {
        FloatVector g0 = FloatVector.fromArray(SPECIES, g, at), g1 = FloatVector.fromArray(SPECIES, g, at + 8);
        FloatVector g2 = FloatVector.fromArray(SPECIES, g, at + 16), g3 = FloatVector.fromArray(SPECIES, g, at + 24);
        FloatVector g4 = FloatVector.fromArray(SPECIES, g, at + 32), g5 = FloatVector.fromArray(SPECIES, g, at + 40);
        FloatVector g6 = FloatVector.fromArray(SPECIES, g, at + 48), g7 = FloatVector.fromArray(SPECIES, g, at + 56);
        FloatVector h0 = FloatVector.fromArray(SPECIES, h, at), h1 = FloatVector.fromArray(SPECIES, h, at + 8);
        FloatVector h2 = FloatVector.fromArray(SPECIES, h, at + 16), h3 = FloatVector.fromArray(SPECIES, h, at + 24);
        FloatVector h4 = FloatVector.fromArray(SPECIES, h, at + 32), h5 = FloatVector.fromArray(SPECIES, h, at + 40);
        FloatVector h6 = FloatVector.fromArray(SPECIES, h, at + 48), h7 = FloatVector.fromArray(SPECIES, h, at + 56);
        for (int r = 0, o = 0; r < rows; r++, o += stride) {
            FloatVector e0 = FloatVector.fromArray(SPECIES, dy, dyi + o);
            FloatVector e1 = FloatVector.fromArray(SPECIES, dy, dyi + o + 8);
            FloatVector e2 = FloatVector.fromArray(SPECIES, dy, dyi + o + 16);
            FloatVector e3 = FloatVector.fromArray(SPECIES, dy, dyi + o + 24);
            FloatVector e4 = FloatVector.fromArray(SPECIES, dy, dyi + o + 32);
            FloatVector e5 = FloatVector.fromArray(SPECIES, dy, dyi + o + 40);
            FloatVector e6 = FloatVector.fromArray(SPECIES, dy, dyi + o + 48);
            FloatVector e7 = FloatVector.fromArray(SPECIES, dy, dyi + o + 56);
            g0 = g0.add(e0);
            g1 = g1.add(e1);
            g2 = g2.add(e2);
            g3 = g3.add(e3);
            g4 = g4.add(e4);
            g5 = g5.add(e5);
            g6 = g6.add(e6);
            g7 = g7.add(e7);
            FloatVector c0 = FloatVector.fromArray(SPECIES, x, xi + o)
                    .sub(FloatVector.fromArray(SPECIES, k, at));
            h0 = e0.fma(c0, h0);
            FloatVector c1 = FloatVector.fromArray(SPECIES, x, xi + o + 8)
                    .sub(FloatVector.fromArray(SPECIES, k, at + 8));
            h1 = e1.fma(c1, h1);
            FloatVector c2 = FloatVector.fromArray(SPECIES, x, xi + o + 16)
                    .sub(FloatVector.fromArray(SPECIES, k, at + 16));
            h2 = e2.fma(c2, h2);
            FloatVector c3 = FloatVector.fromArray(SPECIES, x, xi + o + 24)
                    .sub(FloatVector.fromArray(SPECIES, k, at + 24));
            h3 = e3.fma(c3, h3);
            FloatVector c4 = FloatVector.fromArray(SPECIES, x, xi + o + 32)
                    .sub(FloatVector.fromArray(SPECIES, k, at + 32));
            h4 = e4.fma(c4, h4);
            FloatVector c5 = FloatVector.fromArray(SPECIES, x, xi + o + 40)
                    .sub(FloatVector.fromArray(SPECIES, k, at + 40));
            h5 = e5.fma(c5, h5);
            FloatVector c6 = FloatVector.fromArray(SPECIES, x, xi + o + 48)
                    .sub(FloatVector.fromArray(SPECIES, k, at + 48));
            h6 = e6.fma(c6, h6);
            FloatVector c7 = FloatVector.fromArray(SPECIES, x, xi + o + 56)
                    .sub(FloatVector.fromArray(SPECIES, k, at + 56));
            h7 = e7.fma(c7, h7);
        }
        g0.intoArray(g, at);
        g1.intoArray(g, at + 8);
        g2.intoArray(g, at + 16);
        g3.intoArray(g, at + 24);
        g4.intoArray(g, at + 32);
        g5.intoArray(g, at + 40);
        g6.intoArray(g, at + 48);
        g7.intoArray(g, at + 56);
        h0.intoArray(h, at);
        h1.intoArray(h, at + 8);
        h2.intoArray(h, at + 16);
        h3.intoArray(h, at + 24);
        h4.intoArray(h, at + 32);
        h5.intoArray(h, at + 40);
        h6.intoArray(h, at + 48);
        h7.intoArray(h, at + 56);
    }

    /**
     * {@link #normalizeRows} one row at a time for whole rows back to back (c0 = 0, c1 = stride, a
     * multiple of {@value #W}): one loop over all their values, the channel index wrapping to 0 at
     * each row's end. An inner loop of 64 or 128 vectors per row streamed 1.3-1.6x slower than this
     * (NOTES section 22). A method of its own: added to the rows loops' method, such a loop made C2
     * compile their 4-row loops up to 1.7x slower (NOTES section 24).
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

    /**
     * {@link #accumulateShiftedRows} for segments of at least 256 channels in rows longer than
     * 256: 8 rows per load and store of the lanes, the rest as there. Each lane still adds its
     * rows in row order, so the sums are those of one row at a time. It loads and stores a lane
     * once per 8 vectors of x, where the one-loop form it replaced (as {@link #normalizeWholeRows})
     * did so per vector; NC (4096,1024) training ran 7-28% faster (NOTES section 27). Segments of
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
            ScalarElementwisePasses.accumulateShiftedRows(x, xr, 8, stride, k, s, q, at, c, c1);
        }
        if (r < rows) {
            accumulateShiftedRows(x, xi + r * stride, rows - r, stride, k, s, q, at, c0, c1);
        }
    }

    /** {@link #accumulateGradientRows} over whole rows back to back, in one loop as {@link #normalizeWholeRows}. */
    static void accumulateGradientWholeRows(float[] dy, int dyi, float[] x, int xi, int rows, int stride, float[] k,
            float[] g, float[] h, int at) {
        for (int i = 0, end = rows * stride, c = 0; i < end; i += W) {
            FloatVector d = FloatVector.fromArray(SPECIES, dy, dyi + i);
            FloatVector centered = FloatVector.fromArray(SPECIES, x, xi + i)
                    .sub(FloatVector.fromArray(SPECIES, k, at + c));
            FloatVector.fromArray(SPECIES, g, at + c).add(d).intoArray(g, at + c);
            d.fma(centered, FloatVector.fromArray(SPECIES, h, at + c)).intoArray(h, at + c);
            c += W;
            if (c == stride) {
                c = 0;
            }
        }
    }

    /**
     * {@link ElementwisePasses#foldLanes}: each float vector widens into two double vectors. The
     * plain loop stayed scalar and took a fifth of the NC (4096,1024) gradient sums, which fold
     * every 16 rows (NOTES section 34).
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
        ScalarElementwisePasses.foldLanes(s, q, a, b, i, to);
    }
}

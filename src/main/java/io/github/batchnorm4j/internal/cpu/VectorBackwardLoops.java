package io.github.batchnorm4j.internal.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BackwardLoops} with the Vector API, 8 floats at a time; the tail of each loop is the plain
 * code. Loaded only when the incubator module is present.
 */
final class VectorBackwardLoops {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_256;

    /** Floats per vector; the dispatching class sends rows here as whole rows only in whole vectors of it. */
    private static final int W = RunSums.LANES;

    /** Rows per block in the channels-last loops. */
    private static final int R = 4;

    private VectorBackwardLoops() {
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
            ScalarBackwardLoops.gradientApplyRows(dy, dyi + o, x, xi + o, dx, dxi + o, R, stride, c, c1, center, k,
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
     * 13-26% faster (design.md, 'Packed dx coefficients'). Channels before the first whole group of 8 and after the
     * last go through the plain code. A method of its own, as the loops of design.md, 'Methods of their own for C2'.
     */
    static void gradientApplyRowByRow(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int rows,
            int stride, int c0, int c1, float[] center, float[] k, float[] kc, float[] k0, float[] packed) {
        int head = Math.min(c1, (c0 + W - 1) / W * W); // the first channel of a whole group
        for (int r = 0; r < rows; r++) {
            int o = r * stride;
            ScalarBackwardLoops.gradientApplyRows(dy, dyi + o, x, xi + o, dx, dxi + o, 1, stride, c0, head, center,
                    k, kc, k0);
            int c = head;
            for (; c <= c1 - W; c += W) {
                int j = o + c;
                // group c / W of 4 * W floats, as BackwardLoops.packGradientCoefficients lays them out
                int p = c * 4;
                FloatVector centered = FloatVector.fromArray(SPECIES, x, xi + j)
                        .sub(FloatVector.fromArray(SPECIES, packed, p));
                FloatVector.fromArray(SPECIES, dy, dyi + j).mul(FloatVector.fromArray(SPECIES, packed, p + W))
                        .sub(centered.mul(FloatVector.fromArray(SPECIES, packed, p + 2 * W)))
                        .sub(FloatVector.fromArray(SPECIES, packed, p + 3 * W)).intoArray(dx, dxi + j);
            }
            ScalarBackwardLoops.gradientApplyRows(dy, dyi + o, x, xi + o, dx, dxi + o, 1, stride, c, c1, center, k,
                    kc, k0);
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
            ScalarBackwardLoops.accumulateGradientRows(dy, dyi + o, x, xi + o, R, stride, k, g, h, at, c, c1);
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
            ScalarBackwardLoops.accumulateGradientRows(dy, dyi + o, x, xi + o, 1, stride, k, g, h, at, c, c1);
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
}

package io.github.batchnorm4j;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ElementwisePasses} with the Vector API, 8 floats at a time; the tail of each loop is the
 * plain code. Loaded only when the incubator module is present.
 */
final class VectorElementwisePasses {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_256;
    private static final int W = 8;

    private VectorElementwisePasses() {
    }

    static void normalize(float[] x, int xi, float[] y, int yi, int len, float hi, float lo, float scale,
            float shift) {
        int i = 0;
        for (; i <= len - W; i += W) {
            FloatVector.fromArray(SPECIES, x, xi + i).sub(hi).sub(lo).mul(scale).add(shift).intoArray(y, yi + i);
        }
        for (; i < len; i++) {
            y[yi + i] = ((x[xi + i] - hi) - lo) * scale + shift;
        }
    }

    static void normalizeRow(float[] x, int xi, float[] y, int yi, int c0, int c1, float[] hi, float[] lo,
            float[] scale, float[] shift) {
        int c = c0;
        for (; c <= c1 - W; c += W) {
            FloatVector.fromArray(SPECIES, x, xi + c)
                    .sub(FloatVector.fromArray(SPECIES, hi, c))
                    .sub(FloatVector.fromArray(SPECIES, lo, c))
                    .mul(FloatVector.fromArray(SPECIES, scale, c))
                    .add(FloatVector.fromArray(SPECIES, shift, c))
                    .intoArray(y, yi + c);
        }
        for (; c < c1; c++) {
            y[yi + c] = ((x[xi + c] - hi[c]) - lo[c]) * scale[c] + shift[c];
        }
    }

    static void gradientApply(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int len, float hi,
            float lo, float k, float kc, float k0) {
        int i = 0;
        for (; i <= len - W; i += W) {
            FloatVector centered = FloatVector.fromArray(SPECIES, x, xi + i).sub(hi).sub(lo);
            FloatVector.fromArray(SPECIES, dy, dyi + i).mul(k).sub(centered.mul(kc)).sub(k0).intoArray(dx, dxi + i);
        }
        for (; i < len; i++) {
            dx[dxi + i] = k * dy[dyi + i] - kc * ((x[xi + i] - hi) - lo) - k0;
        }
    }

    static void gradientApplyRow(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int c0, int c1,
            float[] hi, float[] lo, float[] k, float[] kc, float[] k0) {
        int c = c0;
        for (; c <= c1 - W; c += W) {
            FloatVector centered = FloatVector.fromArray(SPECIES, x, xi + c)
                    .sub(FloatVector.fromArray(SPECIES, hi, c))
                    .sub(FloatVector.fromArray(SPECIES, lo, c));
            FloatVector.fromArray(SPECIES, dy, dyi + c).mul(FloatVector.fromArray(SPECIES, k, c))
                    .sub(centered.mul(FloatVector.fromArray(SPECIES, kc, c)))
                    .sub(FloatVector.fromArray(SPECIES, k0, c))
                    .intoArray(dx, dxi + c);
        }
        for (; c < c1; c++) {
            dx[dxi + c] = k[c] * dy[dyi + c] - kc[c] * ((x[xi + c] - hi[c]) - lo[c]) - k0[c];
        }
    }

    static void accumulateShifted(float[] x, int xi, float[] k, float[] s, float[] q, int at, int c0, int c1) {
        int c = c0;
        for (; c <= c1 - W; c += W) {
            FloatVector d = FloatVector.fromArray(SPECIES, x, xi + c).sub(FloatVector.fromArray(SPECIES, k, at + c));
            FloatVector.fromArray(SPECIES, s, at + c).add(d).intoArray(s, at + c);
            d.fma(d, FloatVector.fromArray(SPECIES, q, at + c)).intoArray(q, at + c);
        }
        for (; c < c1; c++) {
            float d = x[xi + c] - k[at + c];
            s[at + c] += d;
            q[at + c] = Math.fma(d, d, q[at + c]);
        }
    }

    static void accumulateGradient(float[] dy, int dyi, float[] x, int xi, float[] k, float[] g, float[] h,
            int at, int c0, int c1) {
        int c = c0;
        for (; c <= c1 - W; c += W) {
            FloatVector d = FloatVector.fromArray(SPECIES, dy, dyi + c);
            FloatVector centered = FloatVector.fromArray(SPECIES, x, xi + c).sub(FloatVector.fromArray(SPECIES, k, at + c));
            FloatVector.fromArray(SPECIES, g, at + c).add(d).intoArray(g, at + c);
            d.fma(centered, FloatVector.fromArray(SPECIES, h, at + c)).intoArray(h, at + c);
        }
        for (; c < c1; c++) {
            float d = dy[dyi + c];
            g[at + c] += d;
            h[at + c] = Math.fma(d, x[xi + c] - k[at + c], h[at + c]);
        }
    }
}

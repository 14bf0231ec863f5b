package io.github.batchnorm4j.internal.cpu;

/** {@link ElementwisePasses} in plain Java: the reference the vector code must equal bit for bit. */
final class ScalarElementwisePasses {
    private ScalarElementwisePasses() {
    }

    static void normalize(float[] x, int xi, float[] y, int yi, int len, float center, float scale, float shift) {
        for (int i = 0; i < len; i++) {
            y[yi + i] = (x[xi + i] - center) * scale + shift;
        }
    }

    static void normalizeRows(float[] x, int xi, float[] y, int yi, int rows, int stride, int c0, int c1,
            float[] center, float[] scale, float[] shift) {
        for (int o = 0; o < rows * stride; o += stride) {
            for (int c = c0; c < c1; c++) {
                y[yi + o + c] = (x[xi + o + c] - center[c]) * scale[c] + shift[c];
            }
        }
    }

    static void gradientApply(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int len, float center,
            float k, float kc, float k0) {
        for (int i = 0; i < len; i++) {
            dx[dxi + i] = k * dy[dyi + i] - kc * (x[xi + i] - center) - k0;
        }
    }

    static void gradientApplyRows(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int rows, int stride,
            int c0, int c1, float[] center, float[] k, float[] kc, float[] k0) {
        for (int o = 0; o < rows * stride; o += stride) {
            for (int c = c0; c < c1; c++) {
                dx[dxi + o + c] = k[c] * dy[dyi + o + c] - kc[c] * (x[xi + o + c] - center[c]) - k0[c];
            }
        }
    }

    static void accumulateShiftedRows(float[] x, int xi, int rows, int stride, float[] k, float[] s, float[] q,
            int at, int c0, int c1) {
        for (int o = 0; o < rows * stride; o += stride) {
            for (int c = c0; c < c1; c++) {
                float d = x[xi + o + c] - k[at + c];
                s[at + c] += d;
                q[at + c] = Math.fma(d, d, q[at + c]);
            }
        }
    }

    static void accumulateGradientRows(float[] dy, int dyi, float[] x, int xi, int rows, int stride, float[] k,
            float[] g, float[] h, int at, int c0, int c1) {
        for (int o = 0; o < rows * stride; o += stride) {
            for (int c = c0; c < c1; c++) {
                float d = dy[dyi + o + c];
                g[at + c] += d;
                h[at + c] = Math.fma(d, x[xi + o + c] - k[at + c], h[at + c]);
            }
        }
    }

    static void foldLanes(float[] s, float[] q, double[] a, double[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            a[i] += s[i];
            b[i] += q[i];
            s[i] = 0;
            q[i] = 0;
        }
    }
}

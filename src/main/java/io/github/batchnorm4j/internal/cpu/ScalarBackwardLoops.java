package io.github.batchnorm4j.internal.cpu;

/** {@link BackwardLoops} in plain Java: the reference the vector code must equal bit for bit. */
final class ScalarBackwardLoops {
    private ScalarBackwardLoops() {
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
}

package io.github.batchnorm4j.internal.cpu;

/** {@link NormalizeLoops} in plain Java: the reference the vector code must equal bit for bit. */
final class ScalarNormalizeLoops {
    private ScalarNormalizeLoops() {
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
}

package io.github.batchnorm4j.internal.cpu;

/** {@link StatisticsLoops} in plain Java: the reference the vector code must equal bit for bit. */
final class ScalarStatisticsLoops {
    private ScalarStatisticsLoops() {
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

    static void foldLanes(float[] s, float[] q, double[] a, double[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            a[i] += s[i];
            b[i] += q[i];
            s[i] = 0;
            q[i] = 0;
        }
    }
}

package io.github.batchnorm4j.internal.cpu;

/**
 * {@link RunSums} without the Vector API: the same 8 float lanes and 8 fp64 lane totals per run as
 * {@link VectorRunSums}, kept in local variables and added in the same order, so the two agree to
 * the bit. Eight independent chains also let an out-of-order core overlap adds that one fp64
 * chain would serialize.
 */
final class ScalarRunSums {
    private ScalarRunSums() {
    }

    static void shiftedSums(float[] x, int from, int len, int runs, int stride, float k, double[] sum,
            double[] squares, int slot) {
        for (int r = 0; r < runs; r++) {
            int start = from + r * stride;
            int to = start + len;
            int i = start;
            double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
            double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0;
            while (to - i >= RunSums.LANES) {
                int end = i + Math.min(RunSums.BLOCK, (to - i) / RunSums.LANES * RunSums.LANES);
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
                float q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, q5 = 0, q6 = 0, q7 = 0;
                for (; i < end; i += RunSums.LANES) {
                    float d0 = x[i + 0] - k;
                    s0 += d0;
                    q0 = Math.fma(d0, d0, q0);
                    float d1 = x[i + 1] - k;
                    s1 += d1;
                    q1 = Math.fma(d1, d1, q1);
                    float d2 = x[i + 2] - k;
                    s2 += d2;
                    q2 = Math.fma(d2, d2, q2);
                    float d3 = x[i + 3] - k;
                    s3 += d3;
                    q3 = Math.fma(d3, d3, q3);
                    float d4 = x[i + 4] - k;
                    s4 += d4;
                    q4 = Math.fma(d4, d4, q4);
                    float d5 = x[i + 5] - k;
                    s5 += d5;
                    q5 = Math.fma(d5, d5, q5);
                    float d6 = x[i + 6] - k;
                    s6 += d6;
                    q6 = Math.fma(d6, d6, q6);
                    float d7 = x[i + 7] - k;
                    s7 += d7;
                    q7 = Math.fma(d7, d7, q7);
                }
                a0 += s0;
                a1 += s1;
                a2 += s2;
                a3 += s3;
                a4 += s4;
                a5 += s5;
                a6 += s6;
                a7 += s7;
                b0 += q0;
                b1 += q1;
                b2 += q2;
                b3 += q3;
                b4 += q4;
                b5 += q5;
                b6 += q6;
                b7 += q7;
            }
            double a = (a0 + a4) + (a1 + a5) + (a2 + a6) + (a3 + a7);
            double b = (b0 + b4) + (b1 + b5) + (b2 + b6) + (b3 + b7);
            for (; i < to; i++) {
                float d = x[i] - k;
                a += d;
                b += (double) d * d;
            }
            sum[slot] += a;
            squares[slot] += b;
        }
    }

    static void gradientSums(float[] dy, int dyFrom, float[] x, int xFrom, int len, int runs, int stride,
            float k, double[] sum, double[] dot, int slot) {
        for (int r = 0; r < runs; r++) {
            int i = xFrom + r * stride;
            int j = dyFrom + r * stride;
            int to = i + len;
            double g0t = 0, g1t = 0, g2t = 0, g3t = 0, g4t = 0, g5t = 0, g6t = 0, g7t = 0;
            double h0t = 0, h1t = 0, h2t = 0, h3t = 0, h4t = 0, h5t = 0, h6t = 0, h7t = 0;
            while (to - i >= RunSums.LANES) {
                int end = i + Math.min(RunSums.GRADIENT_BLOCK, (to - i) / RunSums.LANES * RunSums.LANES);
                float g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0;
                float h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0;
                for (; i < end; i += RunSums.LANES, j += RunSums.LANES) {
                    float g0v = dy[j + 0];
                    g0 += g0v;
                    h0 = Math.fma(g0v, x[i + 0] - k, h0);
                    float g1v = dy[j + 1];
                    g1 += g1v;
                    h1 = Math.fma(g1v, x[i + 1] - k, h1);
                    float g2v = dy[j + 2];
                    g2 += g2v;
                    h2 = Math.fma(g2v, x[i + 2] - k, h2);
                    float g3v = dy[j + 3];
                    g3 += g3v;
                    h3 = Math.fma(g3v, x[i + 3] - k, h3);
                    float g4v = dy[j + 4];
                    g4 += g4v;
                    h4 = Math.fma(g4v, x[i + 4] - k, h4);
                    float g5v = dy[j + 5];
                    g5 += g5v;
                    h5 = Math.fma(g5v, x[i + 5] - k, h5);
                    float g6v = dy[j + 6];
                    g6 += g6v;
                    h6 = Math.fma(g6v, x[i + 6] - k, h6);
                    float g7v = dy[j + 7];
                    g7 += g7v;
                    h7 = Math.fma(g7v, x[i + 7] - k, h7);
                }
                g0t += g0;
                g1t += g1;
                g2t += g2;
                g3t += g3;
                g4t += g4;
                g5t += g5;
                g6t += g6;
                g7t += g7;
                h0t += h0;
                h1t += h1;
                h2t += h2;
                h3t += h3;
                h4t += h4;
                h5t += h5;
                h6t += h6;
                h7t += h7;
            }
            double g = (g0t + g4t) + (g1t + g5t) + (g2t + g6t) + (g3t + g7t);
            double h = (h0t + h4t) + (h1t + h5t) + (h2t + h6t) + (h3t + h7t);
            for (; i < to; i++, j++) {
                float d = dy[j];
                float c = x[i] - k;
                g += d;
                h += (double) d * c;
            }
            sum[slot] += g;
            dot[slot] += h;
        }
    }
}

package io.github.batchnorm4j;

/** The layers that feed a batch norm, written plainly in fp64, for the tests of folding. */
public final class ReferenceLayers {
    private ReferenceLayers() {
    }

    /** y[n][o] = sum_i x[n][i] w[o][i] + b[o], in float64, rounded to float. */
    public static float[] linear(float[] x, int rows, int inputs, float[] w, float[] b, int outputs) {
        float[] y = new float[rows * outputs];
        for (int n = 0; n < rows; n++) {
            for (int o = 0; o < outputs; o++) {
                double sum = b[o];
                for (int i = 0; i < inputs; i++) {
                    sum += (double) x[n * inputs + i] * w[o * inputs + i];
                }
                y[n * outputs + o] = (float) sum;
            }
        }
        return y;
    }

    /** A 3x3 convolution, stride 1, no padding, NCHW, in float64, rounded to float. */
    public static float[] convolution(float[] x, int n, int inputs, int h, int w, float[] weight, float[] b, int outputs) {
        int oh = h - 2, ow = w - 2;
        float[] y = new float[n * outputs * oh * ow];
        for (int s = 0; s < n; s++) {
            for (int o = 0; o < outputs; o++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double sum = b[o];
                        for (int c = 0; c < inputs; c++) {
                            for (int ki = 0; ki < 3; ki++) {
                                for (int kj = 0; kj < 3; kj++) {
                                    sum += (double) x[((s * inputs + c) * h + i + ki) * w + j + kj]
                                            * weight[((o * inputs + c) * 3 + ki) * 3 + kj];
                                }
                            }
                        }
                        y[((s * outputs + o) * oh + i) * ow + j] = (float) sum;
                    }
                }
            }
        }
        return y;
    }
}

package io.github.batchnorm4j.demo;

import java.util.Random;

/**
 * A fully connected layer {@code y = x W^T (+ b)} on row-major batches, trained by plain SGD.
 * The layer in front of batch norm has no bias: the batch mean would subtract it again.
 */
final class Linear {
    final int in;
    final int out;
    final float[] weight; // out x in
    final float[] bias;   // null without bias
    private final float[] weightGradient;
    private final float[] biasGradient;
    private final MatrixMultiply gemm;

    Linear(int in, int out, boolean withBias, Random random, MatrixMultiply gemm) {
        this.in = in;
        this.out = out;
        this.gemm = gemm;
        weight = new float[out * in];
        double bound = Math.sqrt(6.0 / in); // He uniform, for the ReLU that follows
        for (int i = 0; i < weight.length; i++) {
            weight[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
        bias = withBias ? new float[out] : null;
        weightGradient = new float[weight.length];
        biasGradient = withBias ? new float[out] : null;
    }

    /** A layer with the given weights (out x in, copied) and bias (out, copied; or null). */
    Linear(int in, int out, float[] weight, float[] bias, MatrixMultiply gemm) {
        this.in = in;
        this.out = out;
        this.gemm = gemm;
        this.weight = weight.clone();
        this.bias = bias == null ? null : bias.clone();
        weightGradient = new float[weight.length];
        biasGradient = bias == null ? null : new float[out];
    }

    /** y (n x out) = x (n x in) W^T + b. */
    void forward(float[] x, int n, float[] y) {
        gemm.multiply(false, true, n, out, in, x, weight, y, false);
        if (bias != null) {
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < out; j++) {
                    y[r * out + j] += bias[j];
                }
            }
        }
    }

    /** Gradients from dy (n x out) and the forward's x; dx (n x in) unless null. */
    void backward(float[] x, float[] dy, int n, float[] dx) {
        gemm.multiply(true, false, out, in, n, dy, x, weightGradient, false); // dW = dy^T x
        if (bias != null) {
            java.util.Arrays.fill(biasGradient, 0f);
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < out; j++) {
                    biasGradient[j] += dy[r * out + j];
                }
            }
        }
        if (dx != null) {
            gemm.multiply(false, false, n, in, out, dy, weight, dx, false); // dx = dy W
        }
    }

    void step(float learningRate) {
        for (int i = 0; i < weight.length; i++) {
            weight[i] -= learningRate * weightGradient[i];
        }
        if (bias != null) {
            for (int j = 0; j < out; j++) {
                bias[j] -= learningRate * biasGradient[j];
            }
        }
    }
}

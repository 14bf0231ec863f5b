package io.github.batchnorm4j;

import java.util.Arrays;

/**
 * The per-channel affine map {@code y = scale * x + shift} that a layer's inference computes, in
 * fp64: {@code scale = gamma / sqrt(running_var + eps)}, {@code shift = beta - scale * running_mean}.
 * From {@link BatchNorm#inferenceAffine}; it is a snapshot and does not follow later changes.
 *
 * <p>{@link #foldInto} merges the map into the linear layer or convolution that feeds the batch
 * norm, for deployment without a separate normalization.
 */
public final class InferenceAffine {
    private final double[] scale;
    private final double[] shift;

    /** The map with per-channel {@code scale} and {@code shift} (copied; the same length). */
    public InferenceAffine(double[] scale, double[] shift) {
        if (scale.length != shift.length) {
            throw new IllegalArgumentException("scale has " + scale.length + " channels but shift has " + shift.length);
        }
        this.scale = scale.clone();
        this.shift = shift.clone();
    }

    public int channels() {
        return scale.length;
    }

    /** A copy of the per-channel scale a. */
    public double[] scale() {
        return scale.clone();
    }

    /** A copy of the per-channel shift b. */
    public double[] shift() {
        return shift.clone();
    }

    /** Weights and bias of a layer with the batch norm folded in. */
    public record Folded(float[] weight, long[] shape, float[] bias) {
    }

    /**
     * Folds this map into the layer before the batch norm: {@code W' = diag(scale) * W} and
     * {@code b' = scale * b + shift}, per output channel, computed in fp64 and rounded to float.
     * The weights are a linear layer's (C, inputs) or a convolution's (C, inputs, kh, kw), row-major
     * as PyTorch stores them, so output channel c owns the c-th slice of inputs (x kh x kw) values.
     * {@code bias} is the layer's bias (C values), or null when it has none.
     *
     * @throws IllegalArgumentException when the shape is not of rank 2 or 4 with first dimension C,
     *     does not match {@code weight}'s length, the bias is not C values, or a value is not finite
     */
    public Folded foldInto(float[] weight, long[] shape, float[] bias) {
        int channels = scale.length;
        if (shape.length != 2 && shape.length != 4) {
            throw new IllegalArgumentException("weight shape " + Arrays.toString(shape) + " has rank " + shape.length
                    + "; a linear layer's is (C, inputs) and a convolution's (C, inputs, kh, kw)");
        }
        if (shape[0] != channels) {
            throw new IllegalArgumentException("weight shape " + Arrays.toString(shape) + " has first dimension "
                    + shape[0] + " but the batch norm has C=" + channels);
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException("weight shape " + Arrays.toString(shape) + " has an empty dimension");
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (elements != weight.length) {
            throw new IllegalArgumentException("weight shape " + Arrays.toString(shape) + " holds " + elements
                    + " values but " + weight.length + " were given");
        }
        if (bias != null && bias.length != channels) {
            throw new IllegalArgumentException("bias has " + bias.length + " values but the batch norm has C="
                    + channels);
        }
        int perChannel = weight.length / channels;
        float[] folded = new float[weight.length];
        float[] foldedBias = new float[channels];
        for (int c = 0; c < channels; c++) {
            for (int i = c * perChannel, end = i + perChannel; i < end; i++) {
                folded[i] = (float) (scale[c] * weight[i]);
                requireFinite("weight", weight[i], folded[i], i);
            }
            double b = bias == null ? 0 : bias[c];
            foldedBias[c] = (float) (scale[c] * b + shift[c]);
            requireFinite("bias", b, foldedBias[c], c);
        }
        return new Folded(folded, shape.clone(), foldedBias);
    }

    private static void requireFinite(String what, double given, float folded, int index) {
        if (!Float.isFinite(folded)) {
            throw new IllegalArgumentException(what + " value " + given + " at index " + index
                    + (Double.isFinite(given) ? " overflows float when folded" : " is not finite"));
        }
    }
}

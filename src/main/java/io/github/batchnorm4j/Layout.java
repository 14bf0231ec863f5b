package io.github.batchnorm4j;

/**
 * Memory layout of an activation tensor. The channel is the axis whose values share one mean and
 * variance; every other axis is pooled into the statistics.
 */
public enum Layout {
    /** {@code z[n][c]}: fully connected; a hidden unit is a channel; m = N. */
    NC,
    /** {@code z[n][c][h][w]}: convolution, channels first; m = N*H*W. */
    NCHW,
    /** {@code z[n][h][w][c]}: convolution, channels last; m = N*H*W. */
    NHWC
}

package io.github.batchnorm4j.internal.cpu;

/**
 * The backward loops of the CPU path: channels-last gradient sums into per-channel float lanes,
 * and dx = k * dy - kc * (x - center) - k0 (channels-first gradient sums are {@link RunSums}).
 * Each is written once in plain Java ({@link ScalarBackwardLoops}) and once with the Vector API
 * ({@link VectorBackwardLoops}), used when {@link RunSums#VECTOR}; both apply the same IEEE
 * operations in the same order, so they agree to the bit.
 */
final class BackwardLoops {
    private BackwardLoops() {
    }

    /** dx[i] = k * dy[i] - kc * (x[i] - center) - k0 for len values from the given offsets. */
    static void gradientApply(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int len, float center,
            float k, float kc, float k0) {
        if (RunSums.VECTOR) {
            VectorBackwardLoops.gradientApply(dy, dyi, x, xi, dx, dxi, len, center, k, kc, k0);
        } else {
            ScalarBackwardLoops.gradientApply(dy, dyi, x, xi, dx, dxi, len, center, k, kc, k0);
        }
    }

    /** Floats per group of {@link RunSums#LANES} channels in a packed dx coefficient array. */
    private static final int PACKED_GROUP = 4 * RunSums.LANES;

    /** Length of a packed dx coefficient array for {@code channels} channels. */
    static int packedGradientLength(int channels) {
        return (channels + RunSums.LANES - 1) / RunSums.LANES * PACKED_GROUP;
    }

    /**
     * Writes channel c's dx coefficients into {@code packed}: for each group of 8 channels, their
     * 8 centers, then 8 k, 8 kc and 8 k0, so one vector loop reads one coefficient array instead
     * of four (design.md, 'Packed dx coefficients').
     */
    static void packGradientCoefficients(float[] packed, int c, float center, float k, float kc, float k0) {
        int at = c / RunSums.LANES * PACKED_GROUP + c % RunSums.LANES;
        packed[at] = center;
        packed[at + RunSums.LANES] = k;
        packed[at + 2 * RunSums.LANES] = kc;
        packed[at + 3 * RunSums.LANES] = k0;
    }

    /**
     * Channels-last rows of {@link #gradientApply}, with per-channel coefficients, 4 rows per
     * coefficient load when {@code shareLoads}. {@code packed} holds the same coefficients as
     * {@link #packGradientCoefficients} lays them out, for the vector loop that takes one row at a
     * time. Whole rows take no one-loop form here: it measured no faster than one row at a time for
     * dx (design.md, 'Methods of their own for C2').
     */
    static void gradientApplyRows(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int rows, int stride,
            int c0, int c1, float[] center, float[] k, float[] kc, float[] k0, float[] packed, boolean shareLoads) {
        if (RunSums.VECTOR && shareLoads) {
            VectorBackwardLoops.gradientApplyRows(dy, dyi, x, xi, dx, dxi, rows, stride, c0, c1, center, k, kc, k0,
                    packed);
        } else if (RunSums.VECTOR) {
            VectorBackwardLoops.gradientApplyRowByRow(dy, dyi, x, xi, dx, dxi, rows, stride, c0, c1, center, k, kc,
                    k0, packed);
        } else {
            ScalarBackwardLoops.gradientApplyRows(dy, dyi, x, xi, dx, dxi, rows, stride, c0, c1, center, k, kc, k0);
        }
    }

    /**
     * Channels-last gradient sums into per-channel float lanes, row after row: g[at + c] += dy;
     * h[at + c] = fma(dy, x - k[at + c], h[at + c]), c in [c0, c1).
     */
    static void accumulateGradientRows(float[] dy, int dyi, float[] x, int xi, int rows, int stride, float[] k,
            float[] g, float[] h, int at, int c0, int c1) {
        if (RunSums.VECTOR && c1 - c0 == 64) {
            VectorBackwardLoops.accumulateGradientRowsOf64(dy, dyi + c0, x, xi + c0, rows, stride, k, g, h, at + c0);
        } else if (RunSums.VECTOR && stride >= CpuTuning.LONG_ROW && CpuTuning.wholeRows(stride, c0, c1)) {
            VectorBackwardLoops.accumulateGradientWholeRows(dy, dyi, x, xi, rows, stride, k, g, h, at);
        } else if (RunSums.VECTOR) {
            VectorBackwardLoops.accumulateGradientRows(dy, dyi, x, xi, rows, stride, k, g, h, at, c0, c1);
        } else {
            ScalarBackwardLoops.accumulateGradientRows(dy, dyi, x, xi, rows, stride, k, g, h, at, c0, c1);
        }
    }
}

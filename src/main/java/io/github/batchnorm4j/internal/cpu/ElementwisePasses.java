package io.github.batchnorm4j.internal.cpu;

/**
 * The element-wise loops of the CPU path: normalization, gradient application, and the
 * channels-last per-channel accumulators. Each is written once as plain Java here and once with
 * the Vector API in {@link VectorElementwisePasses}, used when {@link RunSums#VECTOR}. Both apply
 * the same IEEE operations in the same order to each element, so they agree to the bit.
 *
 * <p>Why both: the Java 17 JIT left these loops scalar on our machine (measured on NC (4096,1024),
 * one core: normalize 2.95 ms plain, 1.01 ms vector; channels-last sums 2.43 ms vs 0.65 ms).
 */
final class ElementwisePasses {
    /**
     * The row width that splits the channels-last loops (NOTES sections 22-31).
     * <ul>
     * <li>Normalize: whole rows back to back at least this long go one row at a time in one loop
     * over all their values (a loop per row of 512 or 1024 channels streamed up to 1.6x slower,
     * section 22); shorter rows keep the one-row loop, as fast there (section 25).
     * <li>Sums (statistics and gradients alike): segments of exactly 64 channels keep all their
     * lanes in registers (section 28). Wider statistics segments of rows at most this long do so
     * one column of 64 channels at a time (section 31; for gradient sums that made the dx pass
     * after them slower, so they keep the loops below).
     * <li>Statistics segments at least this wide in longer rows take 8 rows per load of their
     * lanes (section 27); whole rows of at least this many channels take their gradient sums in
     * one loop over all their values (section 23); anything else the 4-row loops.
     * </ul>
     */
    private static final int LONG_ROW = 256;

    private ElementwisePasses() {
    }

    /**
     * Whether channels [c0, c1) of rows of this stride are whole rows, back to back, in whole
     * vectors (the vector loops' width is {@link RunSums#LANES}), as the one-loop methods need.
     */
    private static boolean wholeRows(int stride, int c0, int c1) {
        return c0 == 0 && c1 == stride && stride % RunSums.LANES == 0;
    }

    /** y[yi + i] = (x[xi + i] - center) * scale + shift for i in [0, len). */
    static void normalize(float[] x, int xi, float[] y, int yi, int len, float center, float scale, float shift) {
        if (RunSums.VECTOR) {
            VectorElementwisePasses.normalize(x, xi, y, yi, len, center, scale, shift);
        } else {
            ScalarElementwisePasses.normalize(x, xi, y, yi, len, center, scale, shift);
        }
    }

    /**
     * Channels-last rows r in [0, rows), each {@code stride} values after the last:
     * y[yi + r * stride + c] = (x[xi + r * stride + c] - center[c]) * scale[c] + shift[c], c in [c0, c1).
     * {@code shareLoads}: the vector loop may take several rows per load of the coefficients, which
     * pays for data in cache and for segments of rows; otherwise whole rows of at least
     * {@value #LONG_ROW} channels, back to back, go in one loop over all their values. The result
     * is the same either way.
     */
    static void normalizeRows(float[] x, int xi, float[] y, int yi, int rows, int stride, int c0, int c1,
            float[] center, float[] scale, float[] shift, boolean shareLoads) {
        if (RunSums.VECTOR && !shareLoads && stride >= LONG_ROW && wholeRows(stride, c0, c1)) {
            VectorElementwisePasses.normalizeWholeRows(x, xi, y, yi, rows, stride, center, scale, shift);
        } else if (RunSums.VECTOR) {
            VectorElementwisePasses.normalizeRows(x, xi, y, yi, rows, stride, c0, c1, center, scale, shift, shareLoads);
        } else {
            ScalarElementwisePasses.normalizeRows(x, xi, y, yi, rows, stride, c0, c1, center, scale, shift);
        }
    }

    /** dx[i] = k * dy[i] - kc * (x[i] - center) - k0 for len values from the given offsets. */
    static void gradientApply(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int len, float center,
            float k, float kc, float k0) {
        if (RunSums.VECTOR) {
            VectorElementwisePasses.gradientApply(dy, dyi, x, xi, dx, dxi, len, center, k, kc, k0);
        } else {
            ScalarElementwisePasses.gradientApply(dy, dyi, x, xi, dx, dxi, len, center, k, kc, k0);
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
     * of four (NOTES section 33).
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
     * dx (NOTES section 24).
     */
    static void gradientApplyRows(float[] dy, int dyi, float[] x, int xi, float[] dx, int dxi, int rows, int stride,
            int c0, int c1, float[] center, float[] k, float[] kc, float[] k0, float[] packed, boolean shareLoads) {
        if (RunSums.VECTOR && shareLoads) {
            VectorElementwisePasses.gradientApplyRows(dy, dyi, x, xi, dx, dxi, rows, stride, c0, c1, center, k, kc, k0,
                    packed);
        } else if (RunSums.VECTOR) {
            VectorElementwisePasses.gradientApplyRowByRow(dy, dyi, x, xi, dx, dxi, rows, stride, c0, c1, center, k, kc,
                    k0, packed);
        } else {
            ScalarElementwisePasses.gradientApplyRows(dy, dyi, x, xi, dx, dxi, rows, stride, c0, c1, center, k, kc, k0);
        }
    }

    /**
     * Channels-last rows into per-channel float lanes, row after row: d = x[xi + r * stride + c] - k[at + c];
     * s[at + c] += d; q[at + c] = fma(d, d, q[at + c]), c in [c0, c1).
     */
    static void accumulateShiftedRows(float[] x, int xi, int rows, int stride, float[] k, float[] s, float[] q,
            int at, int c0, int c1) {
        if (RunSums.VECTOR && c1 - c0 == 64) {
            VectorElementwisePasses.accumulateShiftedRowsOf64(x, xi + c0, rows, stride, k, s, q, at + c0);
        } else if (RunSums.VECTOR && c1 - c0 > 64 && stride <= LONG_ROW) {
            VectorElementwisePasses.accumulateShiftedColumnsOf64(x, xi, rows, stride, k, s, q, at, c0, c1);
        } else if (RunSums.VECTOR && c1 - c0 >= LONG_ROW) {
            VectorElementwisePasses.accumulateShiftedEightRows(x, xi, rows, stride, k, s, q, at, c0, c1);
        } else if (RunSums.VECTOR) {
            VectorElementwisePasses.accumulateShiftedRows(x, xi, rows, stride, k, s, q, at, c0, c1);
        } else {
            ScalarElementwisePasses.accumulateShiftedRows(x, xi, rows, stride, k, s, q, at, c0, c1);
        }
    }

    /**
     * Folds two sets of float lanes into their fp64 partials and zeroes them, for i in [from, to):
     * a[i] += s[i]; b[i] += q[i]; s[i] = q[i] = 0. Float to double is exact, so both twins give
     * the same bits.
     */
    static void foldLanes(float[] s, float[] q, double[] a, double[] b, int from, int to) {
        if (RunSums.VECTOR) {
            VectorElementwisePasses.foldLanes(s, q, a, b, from, to);
        } else {
            ScalarElementwisePasses.foldLanes(s, q, a, b, from, to);
        }
    }

    /**
     * Channels-last gradient sums into per-channel float lanes, row after row: g[at + c] += dy;
     * h[at + c] = fma(dy, x - k[at + c], h[at + c]), c in [c0, c1).
     */
    static void accumulateGradientRows(float[] dy, int dyi, float[] x, int xi, int rows, int stride, float[] k,
            float[] g, float[] h, int at, int c0, int c1) {
        if (RunSums.VECTOR && c1 - c0 == 64) {
            VectorElementwisePasses.accumulateGradientRowsOf64(dy, dyi + c0, x, xi + c0, rows, stride, k, g, h, at + c0);
        } else if (RunSums.VECTOR && stride >= LONG_ROW && wholeRows(stride, c0, c1)) {
            VectorElementwisePasses.accumulateGradientWholeRows(dy, dyi, x, xi, rows, stride, k, g, h, at);
        } else if (RunSums.VECTOR) {
            VectorElementwisePasses.accumulateGradientRows(dy, dyi, x, xi, rows, stride, k, g, h, at, c0, c1);
        } else {
            ScalarElementwisePasses.accumulateGradientRows(dy, dyi, x, xi, rows, stride, k, g, h, at, c0, c1);
        }
    }
}

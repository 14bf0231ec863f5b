package io.github.batchnorm4j.internal.cpu;

/**
 * The normalization loops of the CPU path, y = (x - center) * scale + shift, channels-first runs
 * and channels-last rows. Each is written once in plain Java ({@link ScalarNormalizeLoops}) and
 * once with the Vector API ({@link VectorNormalizeLoops}), used when {@link RunSums#VECTOR}. Both
 * apply the same IEEE operations in the same order to each element, so they agree to the bit.
 *
 * <p>Why both: the Java 17 JIT left these loops scalar on our machine (measured on NC (4096,1024),
 * one core: normalize 2.95 ms plain, 1.01 ms vector).
 */
final class NormalizeLoops {
    private NormalizeLoops() {
    }

    /** y[yi + i] = (x[xi + i] - center) * scale + shift for i in [0, len). */
    static void normalize(float[] x, int xi, float[] y, int yi, int len, float center, float scale, float shift) {
        if (RunSums.VECTOR) {
            VectorNormalizeLoops.normalize(x, xi, y, yi, len, center, scale, shift);
        } else {
            ScalarNormalizeLoops.normalize(x, xi, y, yi, len, center, scale, shift);
        }
    }

    /**
     * Channels-last rows r in [0, rows), each {@code stride} values after the last:
     * y[yi + r * stride + c] = (x[xi + r * stride + c] - center[c]) * scale[c] + shift[c], c in [c0, c1).
     * {@code shareLoads}: the vector loop may take several rows per load of the coefficients, which
     * pays for data in cache and for segments of rows; otherwise whole rows of at least
     * {@value CpuTuning#LONG_ROW} channels, back to back, go in one loop over all their values. The result
     * is the same either way.
     */
    static void normalizeRows(float[] x, int xi, float[] y, int yi, int rows, int stride, int c0, int c1,
            float[] center, float[] scale, float[] shift, boolean shareLoads) {
        if (RunSums.VECTOR && !shareLoads && stride >= CpuTuning.LONG_ROW && CpuTuning.wholeRows(stride, c0, c1)) {
            VectorNormalizeLoops.normalizeWholeRows(x, xi, y, yi, rows, stride, center, scale, shift);
        } else if (RunSums.VECTOR) {
            VectorNormalizeLoops.normalizeRows(x, xi, y, yi, rows, stride, c0, c1, center, scale, shift, shareLoads);
        } else {
            ScalarNormalizeLoops.normalizeRows(x, xi, y, yi, rows, stride, c0, c1, center, scale, shift);
        }
    }
}

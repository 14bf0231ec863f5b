package io.github.batchnorm4j.internal.cpu;

/**
 * The channels-last statistics loops of the CPU path: rows summed into per-channel float lanes,
 * and the lanes folded into fp64 partials (channels-first runs are {@link RunSums}). Each is
 * written once in plain Java ({@link ScalarStatisticsLoops}) and once with the Vector API
 * ({@link VectorStatisticsLoops}), used when {@link RunSums#VECTOR}; both add in the same order,
 * so they agree to the bit.
 *
 * <p>Why both: the Java 17 JIT left these loops scalar on our machine (measured on NC (4096,1024),
 * one core: channels-last sums 2.43 ms plain, 0.65 ms vector).
 */
final class StatisticsLoops {
    private StatisticsLoops() {
    }

    /**
     * Channels-last rows into per-channel float lanes, row after row: d = x[xi + r * stride + c] - k[at + c];
     * s[at + c] += d; q[at + c] = fma(d, d, q[at + c]), c in [c0, c1).
     */
    static void accumulateShiftedRows(float[] x, int xi, int rows, int stride, float[] k, float[] s, float[] q,
            int at, int c0, int c1) {
        if (RunSums.VECTOR && c1 - c0 == 64) {
            VectorStatisticsLoops.accumulateShiftedRowsOf64(x, xi + c0, rows, stride, k, s, q, at + c0);
        } else if (RunSums.VECTOR && c1 - c0 > 64 && stride <= CpuTuning.LONG_ROW) {
            VectorStatisticsLoops.accumulateShiftedColumnsOf64(x, xi, rows, stride, k, s, q, at, c0, c1);
        } else if (RunSums.VECTOR && c1 - c0 >= CpuTuning.LONG_ROW) {
            VectorStatisticsLoops.accumulateShiftedEightRows(x, xi, rows, stride, k, s, q, at, c0, c1);
        } else if (RunSums.VECTOR) {
            VectorStatisticsLoops.accumulateShiftedRows(x, xi, rows, stride, k, s, q, at, c0, c1);
        } else {
            ScalarStatisticsLoops.accumulateShiftedRows(x, xi, rows, stride, k, s, q, at, c0, c1);
        }
    }

    /**
     * Folds two sets of float lanes into their fp64 partials and zeroes them, for i in [from, to):
     * a[i] += s[i]; b[i] += q[i]; s[i] = q[i] = 0. Float to double is exact, so both twins give
     * the same bits.
     */
    static void foldLanes(float[] s, float[] q, double[] a, double[] b, int from, int to) {
        if (RunSums.VECTOR) {
            VectorStatisticsLoops.foldLanes(s, q, a, b, from, to);
        } else {
            ScalarStatisticsLoops.foldLanes(s, q, a, b, from, to);
        }
    }
}

package io.github.batchnorm4j.internal.cpu;

import io.github.batchnorm4j.BatchNormProperty;

/**
 * The reductions of the CPU path over runs of floats (one channel's H*W values per example in
 * NCHW), in one fixed order that both implementations follow to the bit: {@link VectorRunSums}
 * (the JDK's Vector API, when the JVM was started with {@code --add-modules jdk.incubator.vector})
 * and its scalar twin {@link ScalarRunSums}.
 *
 * <p>The order. Each run is summed on its own: its value {@code 8 t + l} goes to float lane
 * {@code l} (8 lanes); after every {@link #BLOCK} values ({@link #GRADIENT_BLOCK} for gradients)
 * each float lane is added into its own fp64 lane total {@code T[l]} and reset. After the last
 * whole group of 8 the run's total is
 * {@code (T[0] + T[4]) + (T[1] + T[5]) + (T[2] + T[6]) + (T[3] + T[7])}, added left to right (the
 * vector code adds lanes 4-7 onto lanes 0-3, then takes the four apart); values after the last
 * whole group of 8 are added to that total one by one. Squares and products enter their lanes by
 * fused multiply-add. Run totals are then added to the caller's sums in run order. Float lanes hold at most 64 terms, which keeps their
 * rounding near 1e-7 relative; fp64 carries the rest.
 *
 * <p>Why: the Java 17 JIT does not vectorize float reductions, and its fp64 loop runs at about
 * 0.5 ns per value and core, slower than memory; vector lanes run at about 0.08 ns. The vector
 * code also walks four runs at once, because NCHW runs are short (H*W values) and far apart
 * (C*H*W), and four streams keep four times as many cache misses in flight (measured: 2.5 ms
 * instead of 5.8 ms for the statistics of (64,256,28,28) on one core). Both implementations add
 * in the same order, so results do not depend on whether the vector module is present; a test
 * holds them bitwise equal.
 */
public final class RunSums {
    /** Float lanes per run: one 256-bit vector. */
    static final int LANES = 8;

    /** Values per float block of the statistics: 64 groups of 8 lanes (64 terms per lane). */
    static final int BLOCK = 64 * LANES;

    /**
     * Values per float block of the gradient sums: 16 terms per lane. Their products do not shrink
     * with the shift the way squared deviations do, and 64-term blocks missed the fp64 reference's
     * dgamma tolerance (2e-6 sqrt(m)) on about one shape in a few hundred.
     */
    static final int GRADIENT_BLOCK = 16 * LANES;

    /**
     * What is wrong with {@link BatchNormProperty#CPU_VECTOR}'s value, or null: kept rather than
     * thrown, since a class initializer that throws leaves an ExceptionInInitializerError; the
     * CPU backend throws it when it is created ({@link #checkSetting}).
     */
    private static final IllegalArgumentException BAD_SETTING = settingProblem();

    /** Whether the Vector API is in use (the incubator module is in the boot layer and not turned off). */
    static final boolean VECTOR = BAD_SETTING == null && vectorAvailable();

    private RunSums() {
    }

    /**
     * Over {@code runs} runs of {@code len} values, the r-th from {@code x[from + r * stride]}:
     * adds sum(x - k) to {@code sum[slot]} and sum((x - k)^2) to {@code squares[slot]}, with
     * x - k taken in float.
     */
    static void shiftedSums(float[] x, int from, int len, int runs, int stride, float k, double[] sum,
            double[] squares, int slot) {
        if (VECTOR) {
            VectorRunSums.shiftedSums(x, from, len, runs, stride, k, sum, squares, slot);
        } else {
            ScalarRunSums.shiftedSums(x, from, len, runs, stride, k, sum, squares, slot);
        }
    }

    /**
     * Over {@code runs} runs of {@code len} values, the r-th from {@code dy[dyFrom + r * stride]}
     * and {@code x[xFrom + r * stride]}: adds sum(dy) to {@code sum[slot]} and sum(dy * (x - k))
     * to {@code dot[slot]}, with x - k taken in float. The caller shifts by one of the values, not
     * by the mean it needs, because at inference the mean (the running one) can sit far from the
     * data, and products of a large common offset would cancel in the float lanes.
     */
    static void gradientSums(float[] dy, int dyFrom, float[] x, int xFrom, int len, int runs, int stride,
            float k, double[] sum, double[] dot, int slot) {
        if (VECTOR) {
            VectorRunSums.gradientSums(dy, dyFrom, x, xFrom, len, runs, stride, k, sum, dot, slot);
        } else {
            ScalarRunSums.gradientSums(dy, dyFrom, x, xFrom, len, runs, stride, k, sum, dot, slot);
        }
    }

    /** A line for {@code bn4j info} and reports: which implementation runs, and how to get the other. */
    public static String describe() {
        if (VECTOR) {
            return "Vector API (jdk.incubator.vector, 256-bit float lanes)";
        }
        return "scalar (start the JVM with --add-modules jdk.incubator.vector for SIMD sums)";
    }

    /** Throws IllegalArgumentException naming the property when its value does not parse. */
    public static void checkSetting() {
        if (BAD_SETTING != null) {
            throw new IllegalArgumentException(BAD_SETTING.getMessage());
        }
    }

    private static IllegalArgumentException settingProblem() {
        try {
            BatchNormProperty.CPU_VECTOR.booleanValue();
            return null;
        } catch (IllegalArgumentException e) {
            return e;
        }
    }

    private static boolean vectorAvailable() {
        return BatchNormProperty.CPU_VECTOR.booleanValue()
                && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }
}

package io.github.batchnorm4j.internal.cuda;

import java.math.BigInteger;

/**
 * A divisor the elementwise kernels divide by with a multiply-high, an add and two shifts instead
 * of a 64-bit division (a subroutine of tens of instructions on the GPU), after Granlund and
 * Montgomery, "Division by invariant integers using multiplication" (1994), figure 4.1, for
 * 64-bit words: with {@code l = ceil(log2 d)} and {@code m = floor(2^64 (2^l - d) / d) + 1},
 * {@code n / d = (t + ((n - t) >> min(l, 1))) >> max(l - 1, 0)} where {@code t = mulhi(m, n)},
 * exact for every {@code 0 <= n < 2^64}. The kernels take {@code m} and {@code l}
 * (cuda/fast_divide.cuh); {@link #divide} is the same arithmetic in Java, for the tests.
 *
 * @param divisor    d, at least 1
 * @param multiplier m, as an unsigned 64-bit value
 * @param log        l
 */
public record FastDivisor(long divisor, long multiplier, int log) {
    private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);

    public static FastDivisor of(long divisor) {
        if (divisor < 1) {
            throw new IllegalArgumentException("divisor must be at least 1, got " + divisor);
        }
        int log = 64 - Long.numberOfLeadingZeros(divisor - 1);
        BigInteger d = BigInteger.valueOf(divisor);
        BigInteger m = TWO_TO_64.multiply(BigInteger.ONE.shiftLeft(log).subtract(d)).divide(d).add(BigInteger.ONE);
        return new FastDivisor(divisor, m.longValue(), log);
    }

    /** This divisor when it divides by {@code d}, else a new one: launchers keep the last, so steady calls allocate nothing. */
    public FastDivisor or(long d) {
        return d == divisor ? this : of(d);
    }

    /** n / d for a non-negative n, computed as the kernels do. */
    public long divide(long n) {
        long t = unsignedMultiplyHigh(multiplier, n);
        int first = Math.min(log, 1);
        int second = Math.max(log - 1, 0);
        return (t + ((n - t) >>> first)) >>> second;
    }

    private static long unsignedMultiplyHigh(long a, long b) {
        return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
    }
}

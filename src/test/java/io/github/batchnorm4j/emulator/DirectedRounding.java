package io.github.batchnorm4j.emulator;

import java.math.BigDecimal;

/**
 * Correctly rounded add, sub, mul, fma, div, sqrt and rcp in each IEEE rounding mode. Round to
 * nearest is Java's own arithmetic (float operations are IEEE binary32 and Math.fma is exact
 * before its one rounding). The directed modes take that result and, where it is inexact, step
 * it one ulp toward the mode's direction; whether it is above or below the exact value is decided
 * exactly with BigDecimal. Directed rounding is rare in real kernels, so this slower path is fine.
 */
final class DirectedRounding {
    private DirectedRounding() {
    }

    static float f32(int op, float x, float y, float z, Rounding mode) {
        float rn;
        switch (op) {
            case FloatOps.ADD: rn = x + y; break;
            case FloatOps.SUB: rn = x - y; break;
            case FloatOps.MUL: rn = x * y; break;
            case FloatOps.FMA: rn = Math.fma(x, y, z); break;
            case FloatOps.DIV: rn = x / y; break;
            case FloatOps.SQRT: rn = (float) Math.sqrt(x); break;
            default: rn = 1.0f / x; break;
        }
        if (mode == Rounding.RN || !inputsFinite(op, x, y, z) || rn != rn || exactInfinity(op, x, y)) {
            return rn;
        }
        int cmp = compareToExact(op, rn, x, y, z);
        if (cmp == 0) {
            return rn == 0 ? (float) zeroSign(op, rn, x, y, z, mode) : rn;
        }
        switch (mode) {
            case RZ: return (rn > 0 && cmp > 0) || (rn < 0 && cmp < 0) ? towardZero(rn) : rn;
            case RM: return cmp > 0 ? Math.nextDown(rn) : rn;
            default: return cmp < 0 ? Math.nextUp(rn) : rn;
        }
    }

    static double f64(int op, double x, double y, double z, Rounding mode) {
        double rn;
        switch (op) {
            case FloatOps.ADD: rn = x + y; break;
            case FloatOps.SUB: rn = x - y; break;
            case FloatOps.MUL: rn = x * y; break;
            case FloatOps.FMA: rn = Math.fma(x, y, z); break;
            case FloatOps.DIV: rn = x / y; break;
            case FloatOps.SQRT: rn = Math.sqrt(x); break;
            default: rn = 1.0 / x; break;
        }
        if (mode == Rounding.RN || !inputsFinite(op, x, y, z) || rn != rn || exactInfinity(op, x, y)) {
            return rn;
        }
        int cmp = compareToExact(op, rn, x, y, z);
        if (cmp == 0) {
            return rn == 0 ? zeroSign(op, rn, x, y, z, mode) : rn;
        }
        switch (mode) {
            case RZ: return (rn > 0 && cmp > 0) || (rn < 0 && cmp < 0) ? towardZero(rn) : rn;
            case RM: return cmp > 0 ? Math.nextDown(rn) : rn;
            default: return cmp < 0 ? Math.nextUp(rn) : rn;
        }
    }

    private static boolean isPositiveZero(double v) {
        return v == 0 && Double.doubleToRawLongBits(v) == 0;
    }

    private static float towardZero(float v) {
        return v > 0 ? Math.nextDown(v) : v < 0 ? Math.nextUp(v) : v;
    }

    private static double towardZero(double v) {
        return v > 0 ? Math.nextDown(v) : v < 0 ? Math.nextUp(v) : v;
    }

    /** Division by zero gives an exact infinity, which no rounding mode changes. */
    private static boolean exactInfinity(int op, double x, double y) {
        return op == FloatOps.DIV && y == 0 || op == FloatOps.RCP && x == 0;
    }

    private static boolean inputsFinite(int op, double x, double y, double z) {
        boolean finite = Double.isFinite(x);
        if (op != FloatOps.SQRT && op != FloatOps.RCP) {
            finite &= Double.isFinite(y);
        }
        if (op == FloatOps.FMA) {
            finite &= Double.isFinite(z);
        }
        return finite;
    }

    /** The sign of (rn - exact result); operands are finite, rn is not NaN. */
    private static int compareToExact(int op, double rn, double x, double y, double z) {
        if (Double.isInfinite(rn)) {
            return rn > 0 ? 1 : -1; // overflow of a finite exact result
        }
        BigDecimal r = new BigDecimal(rn);
        BigDecimal a = new BigDecimal(x);
        switch (op) {
            case FloatOps.ADD: return r.compareTo(a.add(new BigDecimal(y)));
            case FloatOps.SUB: return r.compareTo(a.subtract(new BigDecimal(y)));
            case FloatOps.MUL: return r.compareTo(a.multiply(new BigDecimal(y)));
            case FloatOps.FMA: return r.compareTo(a.multiply(new BigDecimal(y)).add(new BigDecimal(z)));
            case FloatOps.DIV: {
                // rn - x/y has the sign of (rn*y - x) * sign(y).
                int s = r.multiply(new BigDecimal(y)).compareTo(a);
                return y > 0 ? s : -s;
            }
            case FloatOps.SQRT: return r.multiply(r).compareTo(a);
            default: {
                int s = r.multiply(a).compareTo(BigDecimal.ONE);
                return x > 0 ? s : -s;
            }
        }
    }

    /**
     * An exact zero sum is -0 when rounding toward minus infinity unless both addends are +0;
     * other operations' zero signs do not depend on the mode.
     */
    private static double zeroSign(int op, double rn, double x, double y, double z, Rounding mode) {
        if (mode != Rounding.RM) {
            return rn;
        }
        switch (op) {
            case FloatOps.ADD: return isPositiveZero(x) && isPositiveZero(y) ? 0.0 : -0.0;
            case FloatOps.SUB: return isPositiveZero(x) && isPositiveZero(-y) ? 0.0 : -0.0;
            case FloatOps.FMA: {
                if (x != 0 && y != 0) {
                    return -0.0; // a nonzero product cancelled by z
                }
                boolean productPositive = (Double.doubleToRawLongBits(x) ^ Double.doubleToRawLongBits(y)) >= 0;
                return productPositive && isPositiveZero(z) ? 0.0 : -0.0;
            }
            default: return rn;
        }
    }
}

package io.github.batchnorm4j.emulator;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * cvt between any two of the integer and floating-point types, per the PTX ISA: integer to integer
 * truncates or extends (sign-extending signed sources), clamping with .sat; float to integer rounds
 * with .rni/.rzi/.rmi/.rpi and always clamps to the destination's range, NaN giving 0; integer to
 * float and f64 to f32 round with .rn/.rz/.rm/.rp; f32 to f64 is exact; same-size float to float
 * with an integer rounding rounds to an integral value; .ftz flushes f32 subnormals, .sat clamps
 * float results to [0, 1]. A destination narrower than its register is extended to the register.
 */
final class Conversions {
    private static final double TWO_63 = 9.223372036854775808E18;
    private static final double TWO_64 = 1.8446744073709551616E19;

    private Conversions() {
    }

    /** Integer to integer without .sat (the frequent forms). */
    static long integer(Instruction in, long x) {
        PtxType src = in.sourceType;
        int s = 64 - src.bits;
        long v = src.isSigned() ? (x << s) >> s : (x << s) >>> s;
        return extendToRegister(in, v & in.mask);
    }

    static long convert(Instruction in, long x) {
        PtxType src = in.sourceType;
        PtxType dst = in.type;
        boolean ftz = in.has(Instruction.FTZ);
        long result;
        if (src.isFloat()) {
            double v = src == PtxType.F32 ? FloatBits.f32(x) : FloatBits.f64(x);
            if (ftz && src == PtxType.F32) {
                v = FloatBits.flush((float) v);
            }
            result = dst.isFloat() ? floatToFloat(in, v) : floatToInteger(v, dst, in.rounding);
        } else {
            int s = 64 - src.bits;
            long v = src.isSigned() ? (x << s) >> s : (x << s) >>> s;
            boolean unsigned64 = !src.isSigned() && src.bits == 64;
            if (dst.isFloat()) {
                result = integerToFloat(in, v, unsigned64);
            } else {
                result = in.has(Instruction.SAT) ? saturate(v, src.isSigned() || src.bits < 64, dst) : v;
            }
        }
        return extendToRegister(in, result & in.mask);
    }

    private static long extendToRegister(Instruction in, long v) {
        if (in.registerMask != in.mask && in.type.isSigned()) {
            return ((v << in.shift) >> in.shift) & in.registerMask;
        }
        return v;
    }

    private static long floatToFloat(Instruction in, double v) {
        Rounding rounding = in.rounding;
        boolean single = in.type == PtxType.F32;
        double r;
        if (rounding.isIntegral()) {
            r = roundIntegral(v, rounding);
        } else if (single && in.sourceType == PtxType.F64) {
            r = toFloat(v, rounding);
        } else {
            r = v;
        }
        if (single) {
            float f = (float) r;
            if (in.has(Instruction.FTZ)) {
                f = FloatBits.flush(f);
            }
            if (in.has(Instruction.SAT)) {
                f = FloatBits.saturate(f);
            }
            return FloatBits.bits(f);
        }
        if (in.has(Instruction.SAT)) {
            r = FloatBits.saturate(r);
        }
        return FloatBits.bits(r);
    }

    /** f64 to f32 in a float rounding mode; overflow and underflow round as IEEE says. */
    static float toFloat(double v, Rounding rounding) {
        float rn = (float) v;
        if (rounding == Rounding.RN || rounding == Rounding.NONE || v != v || (double) rn == v
                || Double.isInfinite(v)) {
            return rn;
        }
        boolean above = (double) rn > v;
        switch (rounding) {
            case RZ:
                if (above && rn > 0 || !above && rn < 0) {
                    return rn > 0 ? Math.nextDown(rn) : Math.nextUp(rn);
                }
                return rn;
            case RM: return above ? Math.nextDown(rn) : rn;
            default: return above ? rn : Math.nextUp(rn);
        }
    }

    static double roundIntegral(double v, Rounding rounding) {
        switch (rounding) {
            case RNI: return Math.rint(v);
            case RZI: return v < 0 ? Math.ceil(v) : Math.floor(v);
            case RMI: return Math.floor(v);
            default: return Math.ceil(v);
        }
    }

    private static long floatToInteger(double v, PtxType dst, Rounding rounding) {
        if (v != v) {
            return 0;
        }
        double r = roundIntegral(v, rounding);
        int bits = dst.bits;
        if (dst.isSigned()) {
            if (bits == 64) {
                return (long) r; // Java's conversion clamps to the long range
            }
            double max = Math.pow(2, bits - 1) - 1;
            return (long) Math.max(-max - 1, Math.min(max, r));
        }
        if (r <= 0) {
            return 0;
        }
        if (bits == 64) {
            if (r >= TWO_64) {
                return -1L;
            }
            return r >= TWO_63 ? (long) (r - TWO_63) | Long.MIN_VALUE : (long) r;
        }
        double max = Math.pow(2, bits) - 1;
        return (long) Math.min(max, r);
    }

    private static long integerToFloat(Instruction in, long v, boolean unsigned64) {
        boolean single = in.type == PtxType.F32;
        Rounding rounding = in.rounding;
        double exactish;
        float f = 0;
        double d = 0;
        if (single) {
            f = unsigned64 && v < 0 ? 2.0f * (float) ((v >>> 1) | (v & 1)) : (float) v;
            exactish = f;
        } else {
            d = unsigned64 && v < 0 ? 2.0 * (double) ((v >>> 1) | (v & 1)) : (double) v;
            exactish = d;
        }
        if (rounding != Rounding.RN && rounding != Rounding.NONE) {
            BigDecimal exact = unsigned64 ? new BigDecimal(new BigInteger(Long.toUnsignedString(v)))
                    : BigDecimal.valueOf(v);
            int cmp = new BigDecimal(exactish).compareTo(exact);
            if (cmp != 0) {
                boolean above = cmp > 0;
                boolean down = rounding == Rounding.RM && above
                        || rounding == Rounding.RZ && above && exactish > 0;
                boolean up = rounding == Rounding.RP && !above
                        || rounding == Rounding.RZ && !above && exactish < 0;
                if (single) {
                    f = down ? Math.nextDown(f) : up ? Math.nextUp(f) : f;
                } else {
                    d = down ? Math.nextDown(d) : up ? Math.nextUp(d) : d;
                }
            }
        }
        if (in.has(Instruction.SAT)) {
            f = FloatBits.saturate(f);
            d = FloatBits.saturate(d);
        }
        return single ? FloatBits.bits(f) : FloatBits.bits(d);
    }

    /** .sat between integers: clamps v (a u64 above 2^63 when !fitsSigned and v < 0) to dst. */
    private static long saturate(long v, boolean fitsSigned, PtxType dst) {
        boolean hugeUnsigned = !fitsSigned && v < 0;
        int bits = dst.bits;
        if (dst.isSigned()) {
            long max = bits == 64 ? Long.MAX_VALUE : (1L << (bits - 1)) - 1;
            long min = -max - 1;
            return hugeUnsigned ? max : Math.max(min, Math.min(max, v));
        }
        if (hugeUnsigned) {
            return bits == 64 ? v : dst.mask();
        }
        if (v < 0) {
            return 0;
        }
        long max = bits == 64 ? Long.MAX_VALUE : dst.mask();
        return Math.min(max, v);
    }
}

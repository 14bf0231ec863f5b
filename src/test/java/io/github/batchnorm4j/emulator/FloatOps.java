package io.github.batchnorm4j.emulator;

/**
 * Floating-point instructions with modifiers other than the defaults (directed rounding, .ftz,
 * .sat, .approx, the NaN-propagating min/max) and the transcendental and test instructions.
 * The .approx forms are computed to within rounding of the exact value, which a GPU does not
 * promise; they never differ from the GPU by more than its documented error.
 */
final class FloatOps {
    static final int ADD = 1;
    static final int SUB = 2;
    static final int MUL = 3;
    static final int FMA = 4;
    static final int DIV = 5;
    static final int ABS = 6;
    static final int NEG = 7;
    static final int MIN = 8;
    static final int MAX = 9;
    static final int MIN_NAN = 10;
    static final int MAX_NAN = 11;
    static final int SQRT = 12;
    static final int RCP = 13;
    static final int RSQRT = 14;
    static final int SIN = 15;
    static final int COS = 16;
    static final int LG2 = 17;
    static final int EX2 = 18;
    static final int TANH = 19;
    static final int COPYSIGN = 20;
    static final int TESTP_FINITE = 21;
    static final int TESTP_INFINITE = 22;
    static final int TESTP_NUMBER = 23;
    static final int TESTP_NOTANUMBER = 24;
    static final int TESTP_NORMAL = 25;
    static final int TESTP_SUBNORMAL = 26;

    private FloatOps() {
    }

    static long f32(Instruction in, long[] r) {
        float x = FloatBits.f32(r[in.a]);
        float y = in.b >= 0 ? FloatBits.f32(r[in.b]) : 0.0f;
        float z = in.c >= 0 ? FloatBits.f32(r[in.c]) : 0.0f;
        boolean ftz = in.has(Instruction.FTZ);
        if (ftz) {
            x = FloatBits.flush(x);
            y = FloatBits.flush(y);
            z = FloatBits.flush(z);
        }
        if (in.sub >= TESTP_FINITE) {
            return test(in.sub, x) ? 1 : 0;
        }
        Rounding mode = in.rounding.toFloatMode();
        float result;
        switch (in.sub) {
            case ADD: case SUB: case MUL: case FMA: case DIV: case SQRT: case RCP:
                result = DirectedRounding.f32(in.sub, x, y, z, mode);
                break;
            case ABS: result = Math.abs(x); break;
            case NEG: result = -x; break;
            case MIN: result = FloatBits.min(x, y); break;
            case MAX: result = FloatBits.max(x, y); break;
            case MIN_NAN: result = x != x || y != y ? Float.NaN : Math.min(x, y); break;
            case MAX_NAN: result = x != x || y != y ? Float.NaN : Math.max(x, y); break;
            case RSQRT: result = (float) (1.0 / Math.sqrt(x)); break;
            case SIN: result = (float) Math.sin(x); break;
            case COS: result = (float) Math.cos(x); break;
            case LG2: result = (float) (Math.log(x) / Math.log(2.0)); break;
            case EX2: result = (float) Math.pow(2.0, x); break;
            case TANH: result = (float) Math.tanh(x); break;
            case COPYSIGN: return (r[in.a] & 0x80000000L) | (r[in.b] & 0x7FFFFFFFL);
            default: throw new IllegalStateException("f32 op " + in.sub);
        }
        if (ftz) {
            result = FloatBits.flush(result);
        }
        if (in.has(Instruction.SAT)) {
            result = FloatBits.saturate(result);
        }
        if ((in.sub == ABS || in.sub == NEG) && x != x) {
            // abs and neg only touch the sign bit, NaN payload included.
            long bits = r[in.a] & 0xFFFFFFFFL;
            return in.sub == ABS ? bits & 0x7FFFFFFFL : bits ^ 0x80000000L;
        }
        return FloatBits.bits(result);
    }

    static long f64(Instruction in, long[] r) {
        double x = FloatBits.f64(r[in.a]);
        double y = in.b >= 0 ? FloatBits.f64(r[in.b]) : 0.0;
        double z = in.c >= 0 ? FloatBits.f64(r[in.c]) : 0.0;
        boolean ftz = in.has(Instruction.FTZ);
        if (ftz) {
            x = FloatBits.flush(x);
            y = FloatBits.flush(y);
            z = FloatBits.flush(z);
        }
        if (in.sub >= TESTP_FINITE) {
            return test(in.sub, x) ? 1 : 0;
        }
        Rounding mode = in.rounding.toFloatMode();
        double result;
        switch (in.sub) {
            case ADD: case SUB: case MUL: case FMA: case DIV: case SQRT: case RCP:
                result = DirectedRounding.f64(in.sub, x, y, z, mode);
                break;
            case ABS: return r[in.a] & Long.MAX_VALUE;
            case NEG: return r[in.a] ^ Long.MIN_VALUE;
            case MIN: result = FloatBits.min(x, y); break;
            case MAX: result = FloatBits.max(x, y); break;
            case MIN_NAN: result = x != x || y != y ? Double.NaN : Math.min(x, y); break;
            case MAX_NAN: result = x != x || y != y ? Double.NaN : Math.max(x, y); break;
            case RSQRT: result = 1.0 / Math.sqrt(x); break;
            case COPYSIGN: return (r[in.a] & Long.MIN_VALUE) | (r[in.b] & Long.MAX_VALUE);
            default: throw new IllegalStateException("f64 op " + in.sub);
        }
        if (ftz) {
            result = FloatBits.flush(result);
        }
        if (in.has(Instruction.SAT)) {
            result = FloatBits.saturate(result);
        }
        return FloatBits.bits(result);
    }

    private static boolean test(int op, double v) {
        switch (op) {
            case TESTP_FINITE: return Double.isFinite(v);
            case TESTP_INFINITE: return Double.isInfinite(v);
            case TESTP_NUMBER: return v == v;
            case TESTP_NOTANUMBER: return v != v;
            case TESTP_NORMAL: return Double.isFinite(v) && Math.abs(v) >= Double.MIN_NORMAL;
            default: return v != 0 && Math.abs(v) < Double.MIN_NORMAL;
        }
    }

    private static boolean test(int op, float v) {
        if (op == TESTP_NORMAL) {
            return Float.isFinite(v) && Math.abs(v) >= Float.MIN_NORMAL;
        }
        if (op == TESTP_SUBNORMAL) {
            return v != 0 && Math.abs(v) < Float.MIN_NORMAL;
        }
        return test(op, (double) v);
    }
}

package io.github.batchnorm4j.emulator;

/**
 * Floating-point values in registers. Single-precision results that are NaN are written as the
 * canonical NaN 0x7FFFFFFF, as NVIDIA's FP32 units produce; double-precision NaNs keep Java's
 * bits. Flush-to-zero (.ftz) replaces a subnormal with a zero of the same sign.
 */
final class FloatBits {
    static final long CANONICAL_NAN_32 = 0x7FFFFFFFL;

    private FloatBits() {
    }

    static float f32(long bits) {
        return Float.intBitsToFloat((int) bits);
    }

    static long bits(float value) {
        return value != value ? CANONICAL_NAN_32 : Float.floatToRawIntBits(value) & 0xFFFFFFFFL;
    }

    static double f64(long bits) {
        return Double.longBitsToDouble(bits);
    }

    static long bits(double value) {
        return Double.doubleToRawLongBits(value);
    }

    static float flush(float value) {
        return Math.abs(value) < Float.MIN_NORMAL ? Math.copySign(0.0f, value) : value;
    }

    static double flush(double value) {
        return Math.abs(value) < Double.MIN_NORMAL ? Math.copySign(0.0, value) : value;
    }

    /** .sat: clamps to [0, 1]; NaN becomes +0. */
    static float saturate(float value) {
        return value > 0.0f ? Math.min(value, 1.0f) : 0.0f;
    }

    static double saturate(double value) {
        return value > 0.0 ? Math.min(value, 1.0) : 0.0;
    }

    /** PTX min: a NaN operand is ignored (both NaN gives NaN); -0 is less than +0. */
    static float min(float x, float y) {
        if (x != x) {
            return y;
        }
        if (y != y) {
            return x;
        }
        return Math.min(x, y);
    }

    static float max(float x, float y) {
        if (x != x) {
            return y;
        }
        if (y != y) {
            return x;
        }
        return Math.max(x, y);
    }

    static double min(double x, double y) {
        if (x != x) {
            return y;
        }
        if (y != y) {
            return x;
        }
        return Math.min(x, y);
    }

    static double max(double x, double y) {
        if (x != x) {
            return y;
        }
        if (y != y) {
            return x;
        }
        return Math.max(x, y);
    }
}

package io.github.batchnorm4j.emulator;

import static io.github.batchnorm4j.emulator.ExactRounding.Mode.DOWN;
import static io.github.batchnorm4j.emulator.ExactRounding.Mode.TOWARD_ZERO;
import static io.github.batchnorm4j.emulator.ExactRounding.Mode.UP;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** conversions and compares of float_ops.cu: cvt rounding and saturation, ordered and unordered setp. */
class ConversionAndCompareTest {
    private static final float[] FLOATS = {2.5f, 3.5f, -2.5f, -2.7f, 2.1f, -2.1f, Float.NaN, 3e9f, -3e9f, 1e20f,
        -1e20f, 0.49999997f, -0.0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 16777217f, 1.4e-45f, 5e9f};
    private static final double[] DOUBLES = {2.5, -3.5, 1e39, -1e39, 1.0 + 0x1p-24 + 0x1p-40, 1.0 + 0x1p-24,
        1.0 + 3 * 0x1p-24, Double.NaN, 3e10, -3e10, 1.8e19, 2e19, -0.5, 0.5, 1e-50, -1e-50, 4294967295.5, 0.1};
    private static final long[] LONGS = {16777217, 16777219, -16777217, (1L << 53) + 1, -((1L << 53) + 1),
        Long.MAX_VALUE, Long.MIN_VALUE, -1, 0, 0xFFFFFFFFL, 123456789012345L, 0x8000000000000401L, 33554435,
        -33554435, 7, 0x7FFFFFBFL, (1L << 60) + 12345, -2};

    private static long floatToInt(double v, double rounded, long min, long max) {
        if (v != v) {
            return 0;
        }
        return (long) Math.max(min, Math.min(max, rounded));
    }

    private static long toUnsigned64(double rounded) {
        if (rounded != rounded || rounded <= 0) {
            return 0;
        }
        if (rounded >= 0x1p64) {
            return -1L;
        }
        return new BigDecimal(rounded).toBigInteger().longValue();
    }

    private static long floatBits(float f) {
        return f != f ? 0x7FFFFFFF : Float.floatToRawIntBits(f);
    }

    private static BigDecimal unsigned(long v) {
        return new BigDecimal(new BigInteger(Long.toUnsignedString(v)));
    }

    private static long[] expected(float x, double y, long v) {
        int iv = (int) v;
        return new long[] {
            floatToInt(x, Math.rint(x), Integer.MIN_VALUE, Integer.MAX_VALUE),
            floatToInt(x, x < 0 ? Math.ceil(x) : Math.floor(x), Integer.MIN_VALUE, Integer.MAX_VALUE),
            floatToInt(x, Math.floor(x), Integer.MIN_VALUE, Integer.MAX_VALUE),
            floatToInt(x, Math.ceil(x), Integer.MIN_VALUE, Integer.MAX_VALUE),
            floatToInt(x, Math.rint(x), 0, 0xFFFFFFFFL),
            (long) x,
            toUnsigned64(Math.rint(x)),
            floatToInt(y, Math.rint(y), Integer.MIN_VALUE, Integer.MAX_VALUE),
            y != y ? 0 : (long) Math.floor(y),
            toUnsigned64(Math.ceil(y)),
            floatBits((float) y),
            Double.isFinite(y) ? floatBits(ExactRounding.toFloat(new BigDecimal(y), TOWARD_ZERO)) : floatBits((float) y),
            Double.isFinite(y) ? floatBits(ExactRounding.toFloat(new BigDecimal(y), DOWN)) : floatBits((float) y),
            Double.isFinite(y) ? floatBits(ExactRounding.toFloat(new BigDecimal(y), UP)) : floatBits((float) y),
            Double.doubleToRawLongBits((double) x),
            Float.floatToRawIntBits((float) iv),
            Float.floatToRawIntBits(ExactRounding.toFloat(BigDecimal.valueOf(iv), TOWARD_ZERO)),
            Float.floatToRawIntBits(ExactRounding.toFloat(BigDecimal.valueOf(Integer.toUnsignedLong(iv)), UP)),
            Float.floatToRawIntBits((float) v),
            Float.floatToRawIntBits(ExactRounding.toFloat(unsigned(v), DOWN)),
            Double.doubleToRawLongBits((double) v),
            Double.doubleToRawLongBits(new BigInteger(Long.toUnsignedString(v)).doubleValue()),
            Double.doubleToRawLongBits(ExactRounding.toDouble(BigDecimal.valueOf(v), TOWARD_ZERO)),
            floatBits((float) Math.rint(x)),
            floatBits((float) (x < 0 ? Math.ceil(x) : Math.floor(x))),
            floatBits((float) Math.floor(x)),
            Double.doubleToRawLongBits(Math.ceil(y)),
        };
    }

    @Test
    void conversionsRoundAndSaturateAsPtxSays() {
        PtxKernel kernel = Fixtures.kernel(Fixtures.fixture("float_ops"), "conversions");
        int n = FLOATS.length;
        int outputs = 27;
        ByteArrayMemory memory = new ByteArrayMemory(1 << 20);
        long f = memory.allocate(4L * n);
        long d = memory.allocate(8L * n);
        long l = memory.allocate(8L * n);
        long out = memory.allocate(8L * n * outputs);
        for (int i = 0; i < n; i++) {
            memory.putFloat(f + 4L * i, FLOATS[i]);
            memory.putDouble(d + 8L * i, DOUBLES[i]);
            memory.putLong(l + 8L * i, LONGS[i]);
        }
        byte[] params = new ParameterBuffer(kernel).u64(f).u64(d).u64(l).u64(out).u32(n).bytes();
        Interpreter.launch(kernel, Fixtures.dim(1), Fixtures.dim(32), 0, params, memory, Schedule.DETERMINISTIC);
        for (int i = 0; i < n; i++) {
            long[] expected = expected(FLOATS[i], DOUBLES[i], LONGS[i]);
            for (int k = 0; k < outputs; k++) {
                long actual = memory.getLong(out + 8L * (k * n + i));
                assertEquals(Long.toHexString(expected[k]), Long.toHexString(actual), "output " + k + " for "
                        + FLOATS[i] + ", " + DOUBLES[i] + ", " + LONGS[i]);
            }
        }
    }

    private static int compareBits(double x, double y) {
        boolean[] bits = {x < y, x <= y, x > y, x >= y, x == y, x != y, !(x < y), !(x <= y), !(x > y), !(x >= y),
            !(x == y), Double.isNaN(x), Double.isInfinite(x), Double.isFinite(x)};
        int value = 0;
        for (int b = 0; b < bits.length; b++) {
            value |= (bits[b] ? 1 : 0) << b;
        }
        return value;
    }

    @Test
    void comparesAreOrderedOrUnorderedAsPtxSays() {
        PtxKernel kernel = Fixtures.kernel(Fixtures.fixture("float_ops"), "compares");
        double[][] pairs = {{1, 2}, {2, 1}, {1, 1}, {Double.NaN, 1}, {1, Double.NaN}, {Double.NaN, Double.NaN},
            {-0.0, 0.0}, {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY}, {Double.NEGATIVE_INFINITY, 3},
            {1e-40, 0}, {-5, -5.5}, {3e38, Double.POSITIVE_INFINITY}};
        int n = pairs.length;
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long a = memory.allocate(4L * n);
        long b = memory.allocate(4L * n);
        long c = memory.allocate(8L * n);
        long d = memory.allocate(8L * n);
        long out = memory.allocate(8L * n);
        for (int i = 0; i < n; i++) {
            memory.putFloat(a + 4L * i, (float) pairs[i][0]);
            memory.putFloat(b + 4L * i, (float) pairs[i][1]);
            memory.putDouble(c + 8L * i, pairs[i][0]);
            memory.putDouble(d + 8L * i, pairs[i][1]);
        }
        byte[] params = new ParameterBuffer(kernel).u64(a).u64(b).u64(c).u64(d).u64(out).u32(n).bytes();
        Interpreter.launch(kernel, Fixtures.dim(1), Fixtures.dim(32), 0, params, memory, Schedule.DETERMINISTIC);
        for (int i = 0; i < n; i++) {
            float x = (float) pairs[i][0];
            float y = (float) pairs[i][1];
            assertEquals(Integer.toBinaryString(compareBits(x, y)),
                    Integer.toBinaryString(memory.getInt(out + 8L * i)), "f32 " + x + ", " + y);
            assertEquals(Integer.toBinaryString(compareBits(pairs[i][0], pairs[i][1])),
                    Integer.toBinaryString(memory.getInt(out + 8L * i + 4)), "f64 " + pairs[i][0] + ", " + pairs[i][1]);
        }
    }
}

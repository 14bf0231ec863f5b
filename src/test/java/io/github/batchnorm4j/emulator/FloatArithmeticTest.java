package io.github.batchnorm4j.emulator;

import static io.github.batchnorm4j.emulator.ExactRounding.Mode.DOWN;
import static io.github.batchnorm4j.emulator.ExactRounding.Mode.TOWARD_ZERO;
import static io.github.batchnorm4j.emulator.ExactRounding.Mode.UP;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * f32_ops and f64_ops of float_ops.cu, bit for bit: round-to-nearest results from Java's IEEE
 * arithmetic, directed ones from {@link ExactRounding}, NaN results as the canonical 0x7FFFFFFF
 * (single precision).
 */
class FloatArithmeticTest {
    private static final float TWO_M24 = 0x1p-24f;

    private static float[][] f32Rows() {
        float[][] rows = {
            {1.0f, TWO_M24, 0}, {1.0f + 0x1p-23f, TWO_M24, 0}, {1.0f + 0x1p-12f, 1.0f + 0x1p-12f, -1.0f},
            {1.0f, 3.0f, 0.1f}, {2.0f, 7.0f, -3.0f}, {-1.0f, -0x1p-30f, 5.0f}, {1.0f, -1.0f, 0.0f},
            {1e-30f, 1e30f, 1e-45f}, {1.5e-39f, 2.0e-39f, 0.0f}, {Float.NaN, 1.0f, 0.0f},
            {1.0f, Float.NaN, 0.0f}, {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0.0f},
            {-0.0f, 0.0f, -0.0f}, {3.0e38f, 2.0f, 0.0f}, {0.75f, -0.3f, 1e-8f}, {2.0f, 10.0f, 3.0f},
            {0.0f, 0.0f, 0.0f}, {-2.0f, 0.0f, 1.0f}, {1.5f, 0.5f, -1.0f}, {-1.5e-39f, 1e-39f, 0.0f},
        };
        Random random = new Random(5);
        float[][] all = new float[rows.length + 28][];
        System.arraycopy(rows, 0, all, 0, rows.length);
        for (int i = rows.length; i < all.length; i++) {
            all[i] = new float[] {randomFloat(random), randomFloat(random), randomFloat(random)};
        }
        return all;
    }

    private static float randomFloat(Random random) {
        return (float) ((random.nextBoolean() ? 1 : -1) * random.nextDouble() * Math.pow(2, random.nextInt(40) - 20));
    }

    private static long bits(float f) {
        return f != f ? 0x7FFFFFFFL : Float.floatToRawIntBits(f) & 0xFFFFFFFFL;
    }

    private static float flush(float f) {
        return Math.abs(f) < Float.MIN_NORMAL ? Math.copySign(0.0f, f) : f;
    }

    private static float pnMin(float x, float y) {
        return x != x ? y : y != y ? x : Math.min(x, y);
    }

    private static float pnMax(float x, float y) {
        return x != x ? y : y != y ? x : Math.max(x, y);
    }

    /**
     * A directed result from the exact value: RN where there is none (an input not finite, an exact
     * infinity), {@code exactZero} where the exact value is zero (its sign depends on the operation).
     */
    private static float directed(float rn, BigDecimal exact, ExactRounding.Mode mode, float exactZero) {
        if (exact == null || rn != rn) {
            return rn;
        }
        return exact.signum() == 0 ? exactZero : ExactRounding.toFloat(exact, mode);
    }

    private static boolean positiveZero(float f) {
        return Float.floatToRawIntBits(f) == 0;
    }

    @Test
    void singlePrecisionMatchesIeee() {
        PtxKernel kernel = Fixtures.kernel(Fixtures.fixture("float_ops"), "f32_ops");
        float[][] rows = f32Rows();
        int n = rows.length;
        int outputs = 30;
        ByteArrayMemory memory = new ByteArrayMemory(1 << 20);
        long[] in = {memory.allocate(4L * n), memory.allocate(4L * n), memory.allocate(4L * n)};
        long out = memory.allocate(4L * n * outputs);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 3; j++) {
                memory.putFloat(in[j] + 4L * i, rows[i][j]);
            }
        }
        byte[] params = new ParameterBuffer(kernel).u64(in[0]).u64(in[1]).u64(in[2]).u64(out).u32(n).bytes();
        Interpreter.launch(kernel, Fixtures.dim(1), Fixtures.dim(64), 0, params, memory, Schedule.DETERMINISTIC);
        for (int i = 0; i < n; i++) {
            float x = rows[i][0];
            float y = rows[i][1];
            float z = rows[i][2];
            float[] expected = f32Expected(x, y, z);
            for (int k = 0; k < outputs; k++) {
                long actual = memory.getInt(out + 4L * (k * n + i)) & 0xFFFFFFFFL;
                boolean bitOp = k == 24 || k == 25 || k == 27; // abs, neg, copysign keep NaN payloads
                long want = bitOp ? Float.floatToRawIntBits(expected[k]) & 0xFFFFFFFFL : bits(expected[k]);
                assertEquals(Long.toHexString(want), Long.toHexString(actual),
                        "output " + k + " for x = " + x + ", y = " + y + ", z = " + z);
            }
        }
    }

    private static float[] f32Expected(float x, float y, float z) {
        boolean fxy = Float.isFinite(x) && Float.isFinite(y);
        boolean fxyz = fxy && Float.isFinite(z);
        BigDecimal sum = fxy ? ExactRounding.of(x).add(ExactRounding.of(y)) : null;
        BigDecimal product = fxy ? ExactRounding.of(x).multiply(ExactRounding.of(y)) : null;
        BigDecimal quotient = fxy && y != 0 ? ExactRounding.quotient(x, y) : null;
        BigDecimal root = Float.isFinite(x) && x >= 0 ? ExactRounding.root(x) : null;
        BigDecimal fma = fxyz ? product.add(ExactRounding.of(z)) : null;
        BigDecimal reciprocal = Float.isFinite(x) && x != 0 ? ExactRounding.quotient(1, x) : null;
        float rnSum = x + y;
        float rnProduct = x * y;
        float rnQuotient = x / y;
        float rnRoot = (float) Math.sqrt(x);
        float rnFma = Math.fma(x, y, z);
        float rnReciprocal = 1.0f / x;
        // An exact zero sum is -0 rounding down unless both addends are +0; otherwise RN's zero.
        float sumZeroDown = positiveZero(x) && positiveZero(y) ? 0.0f : -0.0f;
        boolean productPositiveZero = (x == 0 || y == 0) && (Float.floatToRawIntBits(x) ^ Float.floatToRawIntBits(y)) >= 0;
        float fmaZeroDown = productPositiveZero && positiveZero(z) ? 0.0f : -0.0f;
        return new float[] {
            x + y, x - y, x * y, x / y, Math.fma(x, y, z), x * y + z, rnRoot,
            directed(rnSum, sum, TOWARD_ZERO, rnSum), directed(rnSum, sum, UP, rnSum),
            directed(rnSum, sum, DOWN, sumZeroDown),
            directed(rnProduct, product, TOWARD_ZERO, rnProduct), directed(rnProduct, product, UP, rnProduct),
            directed(rnProduct, product, DOWN, rnProduct),
            directed(rnQuotient, quotient, TOWARD_ZERO, rnQuotient), directed(rnQuotient, quotient, UP, rnQuotient),
            directed(rnQuotient, quotient, DOWN, rnQuotient),
            directed(rnRoot, root, TOWARD_ZERO, rnRoot), directed(rnRoot, root, UP, rnRoot),
            directed(rnFma, fma, TOWARD_ZERO, rnFma), directed(rnFma, fma, DOWN, fmaZeroDown),
            rnReciprocal, directed(rnReciprocal, reciprocal, TOWARD_ZERO, rnReciprocal),
            pnMin(x, y), pnMax(x, y), Math.abs(x), -x, x > 0 ? Math.min(x, 1.0f) : 0.0f, Math.copySign(x, y),
            flush(flush(x) + flush(y)), flush(pnMin(flush(x), flush(y))),
        };
    }

    @Test
    void doublePrecisionMatchesIeee() {
        PtxKernel kernel = Fixtures.kernel(Fixtures.fixture("float_ops"), "f64_ops");
        double[][] rows = {
            {1.0, 0x1p-53, 0}, {1.0 + 0x1p-52, 0x1p-53, 0}, {1.0 + 0x1p-27, 1.0 + 0x1p-27, -1.0},
            {1.0, 3.0, 0.1}, {2.0, 7.0, -3.0}, {-1.0, -0x1p-60, 5.0}, {1e-300, 1e300, 4.9e-324},
            {Double.NaN, 1.0, 0.0}, {Double.NEGATIVE_INFINITY, 2.0, 1.0}, {1.7e308, 2.0, 0.0},
            {0.75, -0.3, 1e-17}, {2.0, 10.0, 3.0}, {1.0, Math.PI, Math.E}, {-3.5, 1e-5, 2.0},
        };
        int n = rows.length;
        int outputs = 18;
        ByteArrayMemory memory = new ByteArrayMemory(1 << 20);
        long[] in = {memory.allocate(8L * n), memory.allocate(8L * n), memory.allocate(8L * n)};
        long out = memory.allocate(8L * n * outputs);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 3; j++) {
                memory.putDouble(in[j] + 8L * i, rows[i][j]);
            }
        }
        byte[] params = new ParameterBuffer(kernel).u64(in[0]).u64(in[1]).u64(in[2]).u64(out).u32(n).bytes();
        Interpreter.launch(kernel, Fixtures.dim(1), Fixtures.dim(32), 0, params, memory, Schedule.DETERMINISTIC);
        for (int i = 0; i < n; i++) {
            double x = rows[i][0];
            double y = rows[i][1];
            double z = rows[i][2];
            double[] expected = f64Expected(x, y, z);
            for (int k = 0; k < outputs; k++) {
                double actual = memory.getDouble(out + 8L * (k * n + i));
                assertEquals(Double.doubleToLongBits(expected[k]), Double.doubleToLongBits(actual),
                        "output " + k + " for x = " + x + ", y = " + y + ", z = " + z + ": " + expected[k] + " vs "
                                + actual);
            }
        }
    }

    private static double[] f64Expected(double x, double y, double z) {
        boolean fxy = Double.isFinite(x) && Double.isFinite(y);
        boolean fxyz = fxy && Double.isFinite(z);
        double rnSum = x + y;
        double rnDiv = x / y;
        double rnFma = Math.fma(x, y, z);
        return new double[] {
            x + y, x - y, x * y, x / y, Math.fma(x, y, z), x * y + z, Math.sqrt(x), 1.0 / x,
            fxy ? ExactRounding.toDouble(ExactRounding.of(x).add(ExactRounding.of(y)), TOWARD_ZERO) : rnSum,
            fxy ? ExactRounding.toDouble(ExactRounding.of(x).add(ExactRounding.of(y)), UP) : rnSum,
            fxy ? ExactRounding.toDouble(ExactRounding.of(x).multiply(ExactRounding.of(y)), DOWN) : x * y,
            fxy && y != 0 ? ExactRounding.toDouble(ExactRounding.quotient(x, y), TOWARD_ZERO) : rnDiv,
            fxy && y != 0 ? ExactRounding.toDouble(ExactRounding.quotient(x, y), UP) : rnDiv,
            Double.isFinite(x) && x >= 0 ? ExactRounding.toDouble(ExactRounding.root(x), DOWN) : Math.sqrt(x),
            fxyz ? ExactRounding.toDouble(ExactRounding.of(x).multiply(ExactRounding.of(y)).add(ExactRounding.of(z)),
                    TOWARD_ZERO) : rnFma,
            x != x ? y : y != y ? x : Math.min(x, y), x != x ? y : y != y ? x : Math.max(x, y), Math.abs(x),
        };
    }
}

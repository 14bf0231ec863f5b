package io.github.batchnorm4j.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The integer kernels of integer_ops.cu against Java's arithmetic, on edge values and random ones. */
class IntegerArithmeticTest {
    private static final int INT32_OPS = 32;
    private static final int INT64_OPS = 24;

    private static int[] int32Inputs(long seed, int n, boolean second) {
        int[] special = second ? new int[] {1, -1, 0, 7, Integer.MIN_VALUE, -1, 3, 0x7FFFFFFF, 0x1234, 31, 0, -5}
                : new int[] {0, 5, -7, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE, -100, 1, 0xFFFF, 99, 17, 12};
        int[] v = new int[n];
        Random random = new Random(seed);
        for (int i = 0; i < n; i++) {
            v[i] = i < special.length ? special[i] : random.nextInt();
        }
        return v;
    }

    @Test
    void int32OperationsMatchJava() {
        PtxKernel kernel = Fixtures.kernel(Fixtures.fixture("integer_ops"), "int32_ops");
        int n = 48;
        int[] a = int32Inputs(1, n, false);
        int[] b = int32Inputs(2, n, true);
        ByteArrayMemory memory = new ByteArrayMemory(1 << 20);
        long pa = memory.allocate(4L * n);
        long pb = memory.allocate(4L * n);
        long out = memory.allocate(4L * n * INT32_OPS);
        for (int i = 0; i < n; i++) {
            memory.putInt(pa + 4L * i, a[i]);
            memory.putInt(pb + 4L * i, b[i]);
        }
        byte[] params = new ParameterBuffer(kernel).u64(pa).u64(pb).u64(out).u32(n).bytes();
        Interpreter.launch(kernel, Fixtures.dim(2), Fixtures.dim(32), 0, params, memory, Schedule.DETERMINISTIC);
        for (int i = 0; i < n; i++) {
            int[] expected = int32Expected(a[i], b[i]);
            for (int k = 0; k < expected.length; k++) {
                int actual = memory.getInt(out + 4L * (k * n + i));
                assertEquals(expected[k], actual, "operation " + k + " of a = " + a[i] + ", b = " + b[i]);
            }
        }
    }

    private static int[] int32Expected(int x, int y) {
        long ux = Integer.toUnsignedLong(x);
        long uy = Integer.toUnsignedLong(y);
        boolean divisible = y != 0 && !(x == Integer.MIN_VALUE && y == -1);
        int posS = y & 31;
        int lenS = (y >>> 8) & 31;
        return new int[] {
            x + y, x - y, x * y, divisible ? x / y : 0, divisible ? x % y : 0,
            uy == 0 ? -1 : (int) (ux / uy), uy == 0 ? x : (int) (ux % uy),
            Math.min(x, y), Math.max(x, y), (int) Math.min(ux, uy), (int) Math.max(ux, uy), Math.abs(x),
            x >> (y & 31), x >>> (y & 31), x << (y & 31),
            (int) (((long) x * y) >> 32), (int) ((ux * uy) >>> 32),
            Integer.bitCount(x), Integer.numberOfLeadingZeros(x), Integer.reverse(x), (x & y) ^ (x | ~y),
            (x & 0xFF) | (y & 0xFF) << 8 | ((x >>> 8) & 0xFF) << 16 | ((y >>> 8) & 0xFF) << 24,
            (x < y ? 1 : 0) + 2 * (Integer.compareUnsigned(x, y) < 0 ? 1 : 0) + 4 * (x >= y ? 1 : 0)
                    + 8 * (Integer.compareUnsigned(x, y) >= 0 ? 1 : 0) + 16 * (x == y ? 1 : 0),
            (x < y ? y - x : x - y) + 7,
            ((x << 8) >> 8) * ((y << 8) >> 8),
            x == 0 ? 0 : Integer.numberOfTrailingZeros(x) + 1,
            bfe(x, posS, lenS, true), bfe(x, posS, lenS, false),
            bfi(x, y, (x >>> 5) & 31, (y >>> 13) & 31),
            (byte) x + (short) y + (y & 0xFF),
            (int) (((long) x + y) >> 1), (int) (((long) x + y + 1) >> 1),
        };
    }

    /** bfe per the PTX ISA, bit by bit. */
    private static int bfe(int a, int pos, int len, boolean signed) {
        int sbit = signed && len > 0 ? (a >>> Math.min(pos + len - 1, 31)) & 1 : 0;
        int d = 0;
        for (int i = 0; i < 32; i++) {
            int bit = i < len && pos + i <= 31 ? (a >>> (pos + i)) & 1 : sbit;
            d |= bit << i;
        }
        return d;
    }

    private static int bfi(int a, int b, int pos, int len) {
        int d = b;
        for (int i = 0; i < len && pos + i < 32; i++) {
            d = (d & ~(1 << (pos + i))) | ((a >>> i) & 1) << (pos + i);
        }
        return d;
    }

    @Test
    void int64OperationsMatchJava() {
        PtxKernel kernel = Fixtures.kernel(Fixtures.fixture("integer_ops"), "int64_ops");
        int n = 40;
        long[] special = {0, 5, -7, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE, 1L << 40, -1, 0xFFFFFFFFL, 99};
        long[] specialB = {1, -1, 3, 7, -1, 1, 1L << 33, 63, 0, -(1L << 50)};
        long[] a = new long[n];
        long[] b = new long[n];
        Random random = new Random(3);
        for (int i = 0; i < n; i++) {
            a[i] = i < special.length ? special[i] : random.nextLong() >> random.nextInt(40);
            b[i] = i < specialB.length ? specialB[i] : random.nextLong() >> random.nextInt(60);
        }
        ByteArrayMemory memory = new ByteArrayMemory(1 << 20);
        long pa = memory.allocate(8L * n);
        long pb = memory.allocate(8L * n);
        long out = memory.allocate(8L * n * INT64_OPS);
        for (int i = 0; i < n; i++) {
            memory.putLong(pa + 8L * i, a[i]);
            memory.putLong(pb + 8L * i, b[i]);
        }
        byte[] params = new ParameterBuffer(kernel).u64(pa).u64(pb).u64(out).u32(n).bytes();
        Interpreter.launch(kernel, Fixtures.dim(1), Fixtures.dim(64), 0, params, memory, Schedule.DETERMINISTIC);
        for (int i = 0; i < n; i++) {
            long[] expected = int64Expected(a[i], b[i]);
            for (int k = 0; k < expected.length; k++) {
                assertEquals(expected[k], memory.getLong(out + 8L * (k * n + i)),
                        "operation " + k + " of a = " + a[i] + ", b = " + b[i]);
            }
        }
    }

    private static long[] int64Expected(long x, long y) {
        boolean divisible = y != 0 && !(x == Long.MIN_VALUE && y == -1);
        BigInteger ux = new BigInteger(Long.toUnsignedString(x));
        BigInteger uy = new BigInteger(Long.toUnsignedString(y));
        return new long[] {
            x + y, x - y, x * y, divisible ? x / y : 0, divisible ? x % y : 0,
            y == 0 ? 0 : Long.divideUnsigned(x, y), y == 0 ? 0 : Long.remainderUnsigned(x, y),
            Math.min(x, y), Math.max(x, y), Long.compareUnsigned(x, y) <= 0 ? x : y,
            Long.compareUnsigned(x, y) >= 0 ? x : y, Math.abs(x),
            x >> (y & 63), x >>> (y & 63), x << (y & 63),
            Math.multiplyHigh(x, y), ux.multiply(uy).shiftRight(64).longValue(),
            Long.bitCount(x), Long.numberOfLeadingZeros(x), Long.reverse(x),
            (long) (int) x * (int) y, Integer.toUnsignedLong((int) x) * Integer.toUnsignedLong((int) y),
            (x < y ? 1 : 0) + 2 * (Long.compareUnsigned(x, y) < 0 ? 1 : 0) + 4 * (x >= y ? 1 : 0)
                    + 8 * (Long.compareUnsigned(x, y) >= 0 ? 1 : 0) + 16 * (x == y ? 1 : 0),
            (long) (int) x + Integer.toUnsignedLong((int) y),
        };
    }
}

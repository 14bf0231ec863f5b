package io.github.batchnorm4j.emulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * extra_ops.cu: sign-extending narrow loads, shift amounts past the width, saturating integer
 * cvt, lop3, mad.hi, testp, bfind, vote.uni, generic addresses into shared memory, shared
 * vectors, exch and cas, red; a dynamically indexed local array.
 */
class ExtraOpsTest {
    @Test
    void inlinePtxFormsComputeWhatTheIsaSays() {
        PtxKernel kernel = Fixtures.kernel(Fixtures.fixture("extra_ops"), "extra_ops");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long bytes = memory.allocate(4);
        memory.putInt(bytes, 0x9C);
        long halves = memory.allocate(4);
        memory.putInt(halves, -30000 & 0xFFFF);
        int outputs = 21;
        long out = memory.allocateZeros(4L * outputs);
        byte[] params = new ParameterBuffer(kernel).u64(bytes).u64(halves).u64(out).bytes();
        Interpreter.launch(kernel, Fixtures.dim(1), Fixtures.dim(1), 0, params, memory, Schedule.DETERMINISTIC);
        int[] expected = {
            -100, 0x9C, -30000, 0, 0, -1, 127, 0, 0x0F0F00FF ^ 0x00FF0F0F ^ 0x12345678, 0x10004, 1, 0, 16, 0, 1, 7, 21,
            Float.floatToIntBits(2.5f), 99, 123, 5,
        };
        int[] actual = new int[outputs];
        for (int k = 0; k < outputs; k++) {
            actual[k] = memory.getInt(out + 4L * k);
        }
        assertArrayEquals(expected, actual);
    }

    @Test
    void dynamicallyIndexedArraysLiveInLocalMemoryPerThread() {
        PtxKernel kernel = Fixtures.kernel(Fixtures.fixture("extra_ops"), "local_array");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long index = memory.allocate(4 * 64);
        long out = memory.allocate(4 * 32);
        for (int t = 0; t < 64; t++) {
            memory.putInt(index + 4L * t, t * 7);
        }
        byte[] params = new ParameterBuffer(kernel).u64(index).u64(out).bytes();
        Interpreter.launch(kernel, Fixtures.dim(1), Fixtures.dim(32), 0, params, memory, new Schedule(8));
        for (int t = 0; t < 32; t++) {
            int[] a = new int[16];
            for (int i = 0; i < 16; i++) {
                a[i] = i * i + t;
            }
            a[(t * 7) & 15] += 1000;
            assertEquals(a[((t + 32) * 7) & 15], memory.getInt(out + 4L * t), "thread " + t);
        }
    }
}

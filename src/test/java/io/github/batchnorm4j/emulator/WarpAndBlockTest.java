package io.github.batchnorm4j.emulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** warp_block.cu: a block reduction, every shuffle and vote, float4 access, shared atomics. */
class WarpAndBlockTest {
    private static PtxKernel kernel(String name) {
        return Fixtures.kernel(Fixtures.fixture("warp_block"), name);
    }

    @Test
    void blockReductionWithBarriersAndShufflesSumsEachBlock() {
        PtxKernel kernel = kernel("block_sum");
        int blocks = 5;
        int threads = 256;
        int[] values = new Random(7).ints(blocks * threads, -1000, 1000).toArray();
        for (Schedule schedule : new Schedule[] {Schedule.DETERMINISTIC, new Schedule(1), new Schedule(2)}) {
            ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
            long in = memory.allocate(4L * values.length);
            long sums = memory.allocate(4L * blocks);
            for (int i = 0; i < values.length; i++) {
                memory.putInt(in + 4L * i, values[i]);
            }
            byte[] params = new ParameterBuffer(kernel).u64(in).u64(sums).bytes();
            LaunchStatistics s = Interpreter.launch(kernel, Fixtures.dim(blocks), Fixtures.dim(threads), 0, params,
                    memory, schedule);
            for (int b = 0; b < blocks; b++) {
                int expected = 0;
                for (int t = 0; t < threads; t++) {
                    expected += values[b * threads + t];
                }
                assertEquals(expected, memory.getInt(sums + 4L * b), "block " + b + " under " + schedule);
            }
            assertTrue(s.controlInstructions() > 0 && s.memoryInstructions() > 0 && s.integerInstructions() > 0);
        }
    }

    @Test
    void shufflesAndVotesFollowThePtxLaneRules() {
        PtxKernel kernel = kernel("shuffles");
        int[] v = new int[32];
        for (int lane = 0; lane < 32; lane++) {
            v[lane] = lane * 3 - 20;
        }
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long in = memory.allocate(128);
        long out = memory.allocate(128 * 10);
        for (int lane = 0; lane < 32; lane++) {
            memory.putInt(in + 4L * lane, v[lane]);
        }
        byte[] params = new ParameterBuffer(kernel).u64(in).u64(out).bytes();
        Interpreter.launch(kernel, Fixtures.dim(1), Fixtures.dim(32), 0, params, memory, Schedule.DETERMINISTIC);
        int ballot = 0;
        for (int lane = 0; lane < 32; lane++) {
            ballot |= (v[lane] > 10 ? 1 : 0) << lane;
        }
        for (int l = 0; l < 32; l++) {
            int[] expected = {
                l >= 3 ? v[l - 3] : v[l],
                l + 5 <= 31 ? v[l + 5] : v[l],
                v[7],
                v[l ^ 9],
                l % 8 >= 2 ? v[l - 2] : v[l],
                l % 16 + 3 < 16 ? v[l + 3] : v[l],
                v[(l & ~3) + ((l + 1) & 3)],
                ballot,
                0,
                1,
            };
            for (int k = 0; k < expected.length; k++) {
                assertEquals(expected[k], memory.getInt(out + 4L * (k * 32 + l)), "result " + k + " of lane " + l);
            }
        }
    }

    @Test
    void float4LoadsAndStoresAreOneCoalescedRequestPerWarp() {
        PtxKernel kernel = kernel("scale4");
        int n4 = 100;
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        float[] x = new float[4 * n4];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 0.25f - 7;
        }
        long px = memory.allocateFloats(x);
        long py = memory.allocate(16L * n4);
        byte[] params = new ParameterBuffer(kernel).u64(px).u64(py).f32(1.5f).u32(n4).bytes();
        LaunchStatistics s = Interpreter.launch(kernel, Fixtures.dim(2), Fixtures.dim(64), 0, params, memory,
                Schedule.DETERMINISTIC);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(x[i] * 1.5f), Float.floatToIntBits(memory.getFloat(py + 4L * i)));
        }
        assertEquals(8, s.globalRequests(), "a load and a store for each of the 4 warps with work");
        assertEquals(2L * 16 * n4, s.globalRequestBytes());
        assertEquals(2L * 16 * n4 / 32, s.globalRequestSectors());
        assertEquals(1.0, s.sectorEfficiency());
        assertEquals(2, s.blocks());
        assertEquals(64, s.threadsPerBlock());
    }

    @Test
    void misalignedFloat4IsAMemcheckFault() {
        PtxKernel kernel = kernel("scale4");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long px = memory.allocate(1024) + 4;
        long py = memory.allocate(1024);
        byte[] params = new ParameterBuffer(kernel).u64(px).u64(py).f32(1.5f).u32(4).bytes();
        DeviceFault fault = org.junit.jupiter.api.Assertions.assertThrows(DeviceFault.class, () -> Interpreter.launch(
                kernel, Fixtures.dim(1), Fixtures.dim(32), 0, params, memory, Schedule.DETERMINISTIC));
        assertEquals("memcheck", fault.check());
        assertTrue(fault.getMessage().contains("misaligned: it needs 16-byte alignment"), fault.getMessage());
        assertTrue(fault.getMessage().contains("ld.global.v4.f32"), fault.getMessage());
    }

    @Test
    void sharedAtomicsBuildAHistogramWithoutRaces() {
        PtxKernel kernel = kernel("histogram");
        int n = 3000;
        int[] values = new Random(11).ints(n, 0, 1 << 20).toArray();
        int[] expected = new int[16];
        for (int v : values) {
            expected[v & 15]++;
        }
        for (Schedule schedule : new Schedule[] {Schedule.DETERMINISTIC, new Schedule(42)}) {
            ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
            long in = memory.allocate(4L * n);
            long bins = memory.allocate(64);
            for (int i = 0; i < n; i++) {
                memory.putInt(in + 4L * i, values[i]);
            }
            for (int b = 0; b < 16; b++) {
                memory.putInt(bins + 4L * b, 0);
            }
            byte[] params = new ParameterBuffer(kernel).u64(in).u32(n).u64(bins).bytes();
            Interpreter.launch(kernel, Fixtures.dim(4), Fixtures.dim(128), 0, params, memory, schedule);
            int[] actual = new int[16];
            for (int b = 0; b < 16; b++) {
                actual[b] = memory.getInt(bins + 4L * b);
            }
            assertArrayEquals(expected, actual, schedule.toString());
        }
    }
}

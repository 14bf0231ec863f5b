package io.github.batchnorm4j.emulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Block order under the deterministic and the seeded schedules (warp_block.cu block_order). */
class ScheduleTest {
    private static final int BLOCKS = 16;

    private static int[] order(Schedule schedule) {
        PtxKernel kernel = Fixtures.kernel(Fixtures.fixture("warp_block"), "block_order");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long counter = memory.allocate(4);
        long order = memory.allocate(4L * BLOCKS);
        memory.putInt(counter, 0);
        byte[] params = new ParameterBuffer(kernel).u64(counter).u64(order).bytes();
        Interpreter.launch(kernel, Fixtures.dim(BLOCKS), Fixtures.dim(64), 0, params, memory, schedule);
        int[] result = new int[BLOCKS];
        for (int i = 0; i < BLOCKS; i++) {
            result[i] = memory.getInt(order + 4L * i);
        }
        return result;
    }

    @Test
    void deterministicScheduleRunsBlocksInOrder() {
        int[] expected = new int[BLOCKS];
        Arrays.setAll(expected, i -> i);
        assertArrayEquals(expected, order(Schedule.DETERMINISTIC));
    }

    @Test
    void sameSeedGivesTheSameRun() {
        assertArrayEquals(order(new Schedule(1234)), order(new Schedule(1234)));
    }

    @Test
    void differentSeedsGiveDifferentBlockOrders() {
        Set<String> orders = new HashSet<>();
        for (long seed = 1; seed <= 6; seed++) {
            int[] order = order(new Schedule(seed));
            int[] sorted = order.clone();
            Arrays.sort(sorted);
            int[] all = new int[BLOCKS];
            Arrays.setAll(all, i -> i);
            assertArrayEquals(all, sorted, "every block ran once");
            orders.add(Arrays.toString(order));
        }
        assertTrue(orders.size() >= 5, "orders: " + orders);
    }

    @Test
    void seededScheduleInterleavesResidentBlocks() {
        PtxKernel kernel = Fixtures.kernel(Fixtures.fixture("warp_block"), "block_sum");
        int blocks = 6;
        java.util.List<Integer> loads = new java.util.ArrayList<>();
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        GlobalMemory recording = new GlobalMemory() {
            @Override
            public long load(long address, int size, AccessKind kind, int block, int thread) {
                loads.add(block);
                return memory.load(address, size, kind, block, thread);
            }

            @Override
            public void store(long address, int size, long value, AccessKind kind, int block, int thread) {
                memory.store(address, size, value, kind, block, thread);
            }

            @Override
            public void fence(int block, int thread) {
                memory.fence(block, thread);
            }
        };
        long in = memory.allocateZeros(4L * blocks * 64);
        long sums = memory.allocate(4L * blocks);
        byte[] params = new ParameterBuffer(kernel).u64(in).u64(sums).bytes();
        Interpreter.launch(kernel, Fixtures.dim(blocks), Fixtures.dim(64), 0, params, recording, new Schedule(77));
        int switches = 0;
        for (int i = 1; i < loads.size(); i++) {
            switches += loads.get(i).equals(loads.get(i - 1)) ? 0 : 1;
        }
        assertTrue(switches > blocks, "blocks ran one after another: " + loads);
    }
}

package io.github.batchnorm4j.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Each check of the interpreter fails when it should (faults.cu), and names where. */
class DeviceChecksTest {
    private static PtxKernel kernel(String name) {
        return Fixtures.kernel(Fixtures.fixture("faults"), name);
    }

    private static DeviceFault fault(String check, Executable launch) {
        DeviceFault fault = assertThrows(DeviceFault.class, launch);
        assertEquals(check, fault.check(), fault.getMessage());
        return fault;
    }

    private static void assertNames(DeviceFault fault, String... parts) {
        for (String part : parts) {
            assertTrue(fault.getMessage().contains(part), "'" + part + "' missing from: " + fault.getMessage());
        }
    }

    private static LaunchStatistics run(PtxKernel kernel, ByteArrayMemory memory, byte[] params) {
        return Interpreter.launch(kernel, Fixtures.dim(1), Fixtures.dim(64), 0, params, memory, Schedule.DETERMINISTIC);
    }

    @Test
    void missingBarrierIsASharedMemoryRace() {
        PtxKernel kernel = kernel("neighbour");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        float[] values = new float[64];
        for (int i = 0; i < 64; i++) {
            values[i] = i + 0.5f;
        }
        long in = memory.allocateFloats(values);
        long out = memory.allocate(256);
        run(kernel, memory, new ParameterBuffer(kernel).u64(in).u64(out).u32(1).bytes());
        assertEquals(3.5f, memory.getFloat(out + 16));
        DeviceFault fault = fault("racecheck", () -> run(kernel, memory,
                new ParameterBuffer(kernel).u64(in).u64(out).u32(0).bytes()));
        assertNames(fault, "neighbour", "ld.shared.f32", "line", "block (0,0,0)", "thread (1,0,0)", "0x0",
                "thread (0,0,0) wrote");
    }

    @Test
    void readOfUnwrittenSharedMemoryIsAnInitcheckFault() {
        PtxKernel kernel = kernel("half_written");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long out = memory.allocate(256);
        DeviceFault fault = fault("initcheck", () -> run(kernel, memory, new ParameterBuffer(kernel).u64(out).bytes()));
        assertNames(fault, "half_written", "thread (32,0,0)", "0x80");
    }

    @Test
    void outOfRangeSharedIndexIsAMemcheckFault() {
        PtxKernel kernel = kernel("indexed");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long out = memory.allocate(256);
        run(kernel, memory, new ParameterBuffer(kernel).u64(out).u32(0).bytes());
        assertEquals(5.0f, memory.getFloat(out + 20));
        DeviceFault fault = fault("memcheck", () -> run(kernel, memory,
                new ParameterBuffer(kernel).u64(out).u32(64).bytes()));
        assertNames(fault, "indexed", "thread (0,0,0)", "0x100", "256 bytes of shared memory");
    }

    @Test
    void barrierInsideADivergentBranchIsASynccheckFault() {
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long out = memory.allocate(256);
        PtxKernel divergent = kernel("divergent_barrier");
        DeviceFault fault = fault("synccheck", () -> run(divergent, memory, new ParameterBuffer(divergent).u64(out).bytes()));
        assertNames(fault, "divergent_barrier", "bar.sync", "different barriers");
        PtxKernel early = kernel("early_exit_barrier");
        fault = fault("synccheck", () -> run(early, memory, new ParameterBuffer(early).u64(out).bytes()));
        assertNames(fault, "early_exit_barrier", "exit");
    }

    @Test
    void shuffleNamingExitedLanesIsASynccheckFault() {
        PtxKernel kernel = kernel("shuffle_after_exit");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long in = memory.allocate(256);
        long out = memory.allocate(256);
        for (int i = 0; i < 64; i++) {
            memory.putInt(in + 4L * i, i);
        }
        DeviceFault fault = fault("synccheck", () -> run(kernel, memory,
                new ParameterBuffer(kernel).u64(in).u64(out).bytes()));
        assertNames(fault, "shuffle_after_exit", "shfl.sync.bfly.b32", "0xffffffff", "exited");
    }

    @Test
    void shuffleByALaneOutsideItsMaskIsASynccheckFault() {
        PtxKernel kernel = kernel("shuffle_outside_mask");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long in = memory.allocate(256);
        long out = memory.allocate(256);
        for (int i = 0; i < 64; i++) {
            memory.putInt(in + 4L * i, i);
        }
        DeviceFault fault = fault("synccheck", () -> run(kernel, memory,
                new ParameterBuffer(kernel).u64(in).u64(out).bytes()));
        assertNames(fault, "thread (16,0,0)", "lane 16", "0x0000ffff", "does not name");
    }

    @Test
    void plainReadModifyWriteAcrossWarpsRacesButAtomicsDoNot() {
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long out = memory.allocate(256);
        PtxKernel plain = kernel("shared_counter");
        DeviceFault fault = fault("racecheck", () -> run(plain, memory, new ParameterBuffer(plain).u64(out).bytes()));
        assertNames(fault, "thread (40,0,0)", "thread (0,0,0)");
        PtxKernel atomic = kernel("shared_atomic_counter");
        run(atomic, memory, new ParameterBuffer(atomic).u64(out).bytes());
        assertEquals(2, memory.getInt(out));
    }

    @Test
    void globalMemoryFaultsGainTheLaunchContext() {
        PtxKernel kernel = kernel("half_written");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        DeviceFault fault = fault("memcheck", () -> run(kernel, memory, new ParameterBuffer(kernel).u64(16).bytes()));
        assertNames(fault, "half_written", "st.global.f32", "block (0,0,0)", "thread (0,0,0)", "out of bounds");
        assertTrue(fault.getCause() instanceof DeviceFault);
    }

    @Test
    void unknownInstructionsAndModifiersFailAtLoadNamingTextAndLine() {
        String text = Fixtures.fixtureText("faults");
        DeviceFault fault = fault("interpreter", () -> PtxModule.parse(edit(text, "mul.wide.s32", "mulx.wide.s32")));
        assertNames(fault, "mulx.wide.s32", "line ");
        fault = fault("interpreter", () -> PtxModule.parse(edit(text, "bar.sync", "bar.sync.fancy")));
        assertNames(fault, "bar.sync.fancy", ".fancy", "line ");
        fault = fault("interpreter", () -> PtxModule.parse(edit(text, "ld.shared.f32", "ld.const.f32")));
        assertNames(fault, "ld.const.f32", ".const state space");
        fault = fault("interpreter", () -> PtxModule.parse(edit(text, "bra.uni", "brx.idx")));
        assertNames(fault, "brx.idx");
        fault = fault("interpreter", () -> PtxModule.parse(edit(text, "$L__BB0_2;", "$L__nowhere;")));
        assertNames(fault, "unknown label");
    }

    /** The text with the first occurrence of {@code from} replaced, which must be there. */
    private static String edit(String text, String from, String to) {
        int at = text.indexOf(from);
        assertTrue(at >= 0, from + " not in the fixture");
        return text.substring(0, at) + to + text.substring(at + from.length());
    }

    @Test
    void parameterReadsOutsideTheBufferAreMemcheckFaults() {
        String text = Fixtures.fixtureText("faults").replace("[indexed_param_1]", "[indexed_param_1+8]");
        PtxKernel kernel = Fixtures.kernel(PtxModule.parse(text), "indexed");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long out = memory.allocate(256);
        DeviceFault fault = fault("memcheck", () -> run(kernel, memory, new ParameterBuffer(kernel).u64(out).u32(0).bytes()));
        assertNames(fault, "ld.param", "12-byte parameter buffer");
    }

    @Test
    void parameterBufferOfTheWrongSizeIsASynccheckFault() {
        PtxKernel kernel = kernel("indexed");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        DeviceFault fault = fault("synccheck", () -> run(kernel, memory, new byte[16]));
        assertNames(fault, "indexed", "16 bytes", "needs 12");
    }

    @Test
    void invalidLaunchDimensionsAreRejected() {
        PtxKernel kernel = kernel("indexed");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        byte[] params = new ParameterBuffer(kernel).u64(memory.allocate(256)).u32(0).bytes();
        int[][] badBlocks = {{1025, 1, 1}, {0, 1, 1}, {64, 32, 1}, {1, 1, 65}};
        for (int[] block : badBlocks) {
            assertThrows(IllegalArgumentException.class, () -> Interpreter.launch(kernel, Fixtures.dim(1), block, 0,
                    params, memory, Schedule.DETERMINISTIC));
        }
        assertThrows(IllegalArgumentException.class, () -> Interpreter.launch(kernel, new int[] {1, 0, 1},
                Fixtures.dim(32), 0, params, memory, Schedule.DETERMINISTIC));
        assertThrows(IllegalArgumentException.class, () -> Interpreter.launch(kernel, Fixtures.dim(1),
                Fixtures.dim(32), 48 * 1024, params, memory, Schedule.DETERMINISTIC));
    }

    @Test
    void endlessLoopStopsAtTheInstructionBudget() {
        PtxKernel kernel = Fixtures.kernel(Fixtures.fixture("warp_block"), "spin");
        ByteArrayMemory memory = new ByteArrayMemory(1 << 16);
        long stop = memory.allocate(4);
        memory.putInt(stop, 0);
        byte[] params = new ParameterBuffer(kernel).u64(stop).u64(memory.allocate(4)).bytes();
        DeviceFault fault = fault("interpreter", () -> Interpreter.launch(kernel, Fixtures.dim(1), Fixtures.dim(1), 0,
                params, memory, Schedule.DETERMINISTIC, 100_000));
        assertNames(fault, "spin", "budget of 100000");
    }
}

package io.github.batchnorm4j.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.Layout;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.TestData;
import io.github.batchnorm4j.bench.BenchCase;
import io.github.batchnorm4j.emulator.CostModel.Op;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The cost model's arithmetic by hand, and one modeled call against the bytes it must move. */
class CostModelTest {
    private static LaunchStatistics launch(long instructions, int blocks, int threadsPerBlock) {
        return new LaunchStatistics(instructions, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, blocks, threadsPerBlock);
    }

    @Test
    void issueTimeIsWarpInstructionsOverTheSchedulersInUse() {
        // 264 blocks of 256 threads, 1,000 instructions each: 8 warps per block, two blocks per SM, 4 schedulers.
        double full = CostModel.issueSeconds(launch(264L * 256 * 1000, 264, 256));
        assertEquals(264.0 * 8 * 1000 / (132 * 4 * 1.98e9), full, 1e-18);
        // One block of one warp: one SM, one scheduler.
        assertEquals(1000 / 1.98e9, CostModel.issueSeconds(launch(32 * 1000, 1, 32)), 1e-18);
        // A partial warp issues as a whole one: 40 threads are 2 warps.
        assertEquals(2 * 1000 / (2 * 1.98e9), CostModel.issueSeconds(launch(40 * 1000, 1, 40)), 1e-18);
    }

    @Test
    void aLaunchTakesTheLongerOfDramAndIssueTimePlusTheLatency() {
        EmulatedGpu.LaunchRecord dramBound = new EmulatedGpu.LaunchRecord("k", new int[] {132, 1, 1},
                new int[] {256, 1, 1}, launch(132 * 256, 132, 256), 150_000_000L); // 4.8 GB
        assertEquals(1e-3 + CostModel.LAUNCH_SECONDS, CostModel.seconds(List.of(dramBound)), 1e-12);
        EmulatedGpu.LaunchRecord issueBound = new EmulatedGpu.LaunchRecord("k", new int[] {1, 1, 1},
                new int[] {32, 1, 1}, launch(32 * 1_980_000L, 1, 32), 1);
        assertEquals(1e-3 + CostModel.LAUNCH_SECONDS, CostModel.seconds(List.of(issueBound)), 1e-12);
    }

    @Test
    void benchShapesAreCutInNOnlyUntilTheyFit() {
        GpuModel.ModelCase big = GpuModel.scaled(new BenchCase(Layout.NCHW, new int[] {256, 64, 112, 112}, false));
        assertEquals(List.of(1, 64, 112, 112), java.util.Arrays.stream(big.run().sizes()).boxed().toList());
        GpuModel.ModelCase nc = GpuModel.scaled(new BenchCase(Layout.NC, new int[] {4096, 1024}, false));
        assertEquals(1024, nc.run().sizes()[0]);
        GpuModel.ModelCase small = GpuModel.scaled(new BenchCase(Layout.NC, new int[] {1, 1024}, true));
        assertEquals(null, small.scaledFrom());
    }

    /**
     * Inference of an NCHW shape whose planes are whole sectors: the one normalize launch reads x and
     * writes y in full sectors and touches only a few sectors of per-channel state besides (running
     * mean, running invstd, gamma, beta, read once per warp chunk: on planes this small those
     * requests keep the efficiency below 1).
     */
    @Test
    @Tag(TestData.GPU)
    void aModeledInferenceMovesXAndYOnce() {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available && EmulatedGpu.active(), "emulator test skipped: " + availability.reason);
        Shape shape = Shape.nchw(4, 8, 8, 8);
        long n = shape.elementCount();
        GpuModel.CallRecord r = GpuModel.model(Op.INFERENCE,
                new GpuModel.ModelCase(new BenchCase(Layout.NCHW, new int[] {4, 8, 8, 8}, false), null), "device");
        EmulatedGpu.LaunchRecord normalize = r.launches().get(r.launches().size() - 1);
        assertEquals("bn_normalize_nchw", normalize.kernel());
        long bytes = 32 * normalize.dramSectors();
        assertTrue(bytes >= 8 * n && bytes <= 8 * n + 8 * 32, "normalize moved " + bytes + " bytes for n=" + n);
        assertEquals(1, r.launches().size(), "inference is one launch");
        assertTrue(normalize.statistics().sectorEfficiency() >= 0.9, "sector efficiency "
                + normalize.statistics().sectorEfficiency());
        assertEquals(0, r.counters().allocations(), "steady state allocates nothing");
        assertEquals(r.launches().size(), r.counters().launches());
        assertTrue(GpuModelJson.of(List.of(r)).contains("\"figures\": \"modeled\""));
    }
}

package io.github.batchnorm4j.emulator;

import io.github.batchnorm4j.Shape;
import java.util.List;

/**
 * The emulator's cost model of an H200 SXM: a launch takes the longer of its DRAM time (the
 * distinct 32-byte sectors it touched, no reuse across launches, at 4.8 TB/s) and its issue time
 * (warp instructions over the schedulers its blocks occupy), plus a fixed launch latency. What it
 * leaves out (caches, occupancy limits, latency hiding, DRAM efficiency below peak) is listed in
 * design.md, 'Cost model'. Every figure it gives is modeled, never measured.
 */
public final class CostModel {
    public static final double DRAM_BYTES_PER_SECOND = 4.8e12;
    public static final int SMS = 132;
    public static final int SCHEDULERS_PER_SM = 4;
    public static final double CLOCK_HZ = 1.98e9;
    /** Launch to launch on one stream, the GPU side only: an assumption, not a measurement. */
    public static final double LAUNCH_SECONDS = 2e-6;

    /** The operations the model reports. */
    public enum Op {
        TRAIN_FORWARD, INFERENCE, BACKWARD;

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private CostModel() {
    }

    /** Modeled seconds of the launches, each its DRAM or issue time, plus one latency per launch. */
    public static double seconds(List<EmulatedGpu.LaunchRecord> launches) {
        double total = 0;
        for (EmulatedGpu.LaunchRecord launch : launches) {
            total += Math.max(dramSeconds(launch), issueSeconds(launch.statistics())) + LAUNCH_SECONDS;
        }
        return total;
    }

    static double dramSeconds(EmulatedGpu.LaunchRecord launch) {
        return 32.0 * launch.dramSectors() / DRAM_BYTES_PER_SECOND;
    }

    /**
     * Warp instructions (the per-thread count over the threads of a block, times its warps) over the
     * schedulers in use: one instruction per scheduler per clock, on as many SMs as there are blocks
     * (at most all), with as many schedulers as those SMs have warps (at most 4).
     */
    static double issueSeconds(LaunchStatistics s) {
        if (s.blocks() == 0 || s.threadsPerBlock() == 0) {
            return 0;
        }
        int warpsPerBlock = (s.threadsPerBlock() + 31) / 32;
        double warpInstructions = (double) s.instructions() / s.threadsPerBlock() * warpsPerBlock;
        int activeSms = Math.min(s.blocks(), SMS);
        long warpsPerSm = (long) warpsPerBlock * ((s.blocks() + activeSms - 1) / activeSms);
        long schedulers = Math.min(SCHEDULERS_PER_SM, warpsPerSm);
        return warpInstructions / ((double) activeSms * schedulers * CLOCK_HZ);
    }

    /**
     * The bytes an operation must move between DRAM and the SMs, as design.md 'Cost model' defines
     * them: the two-pass algorithm's tensor traffic (a statistics pass, then an elementwise pass
     * that reads its input again) plus each per-channel array read or written once.
     */
    public static long floorBytes(Op op, Shape shape) {
        long n = shape.elementCount();
        long c = shape.channels();
        return switch (op) {
            // x twice, y once; gamma, beta, both running statistics read; both written, saved mean and invstd written
            case TRAIN_FORWARD -> 4 * (3 * n + 8 * c);
            // x, y; gamma, beta, running mean and variance read
            case INFERENCE -> 4 * (2 * n + 4 * c);
            // x and dy twice, dx once; gamma, saved mean and invstd read, the two gradients written
            case BACKWARD -> 4 * (5 * n + 5 * c);
        };
    }
}

package io.github.batchnorm4j.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.internal.cuda.FastDivisor;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Instructions per second on a shipped kernel: bn_normalize_nchw over a million elements (float4
 * path), in a fresh JVM, best of three launches, per second of wall time and per second of the
 * launching thread's CPU time (the interpreter runs a launch on the caller's thread). The floor is
 * on the CPU-time rate, which other load on the machine leaves alone: on the shared 2-core machine
 * (2026-12-08, load 3.3 to 6.8) the wall-time rate was 125.6 to 264.8 million per second over 24
 * runs, the CPU-time rate 218.8 to 256.5 over 8 (median 232.8), so the floor is a third of that
 * median.
 */
class InterpreterThroughputTest {
    /** Instructions per second of CPU time: a third of the 232.8 million measured. */
    private static final double FLOOR = 77.6e6;

    @Test
    void normalizeAMillionElements() {
        PtxKernel kernel = Fixtures.kernel(Fixtures.shipped("batch_norm_normalize"), "bn_normalize_nchw");
        int n = 64;
        int c = 3;
        int spatial = 5184;
        int count = n * c * spatial;
        ByteArrayMemory memory = new ByteArrayMemory(8 * count + 4096);
        float[] x = new float[count];
        Random random = new Random(1);
        for (int i = 0; i < count; i++) {
            x[i] = (float) random.nextGaussian();
        }
        long px = memory.allocateFloats(x);
        long py = memory.allocate(4L * count);
        float[] params = {0.5f, 1e-8f, 2.0f, -1.0f, 0.25f, 0.0f, 1.5f, 0.0f, -1.0f, 2e-8f, 0.5f, 1.0f};
        long pp = memory.allocateFloats(params);
        FastDivisor bySpatial = FastDivisor.of(spatial);
        FastDivisor byChannels = FastDivisor.of(c);
        byte[] args = new ParameterBuffer(kernel).u64(px).u64(py).u64((long) n * c).u64(c).u64(spatial).u64(pp).u32(1)
                .u64(bySpatial.multiplier()).u32(bySpatial.log()).u64(byChannels.multiplier()).u32(byChannels.log())
                .u32(0).u64(0).u64(0).u64(0).u64(0) // parameters from params, not the running statistics
                .u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0).u64(0).u64(0).u32(0).u64(0).bytes(); // no commit
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        boolean cpuTime = threads.isCurrentThreadCpuTimeSupported();
        double best = 0;
        double bestOnCpu = 0;
        LaunchStatistics statistics = null;
        for (int run = 0; run < 3; run++) {
            long start = System.nanoTime();
            long cpuStart = cpuTime ? threads.getCurrentThreadCpuTime() : 0;
            statistics = Interpreter.launch(kernel, Fixtures.dim(1024), Fixtures.dim(256), 0, args, memory,
                    Schedule.DETERMINISTIC);
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpuSeconds = cpuTime ? (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9 : seconds;
            best = Math.max(best, statistics.instructions() / seconds);
            bestOnCpu = Math.max(bestOnCpu, statistics.instructions() / cpuSeconds);
        }
        System.out.printf("bn_normalize_nchw, %d elements: %d instructions, best %.1f million per second "
                + "(%.1f million per second of the thread's CPU time)%n", count, statistics.instructions(), best / 1e6,
                bestOnCpu / 1e6);
        for (int i = 0; i < count; i += 997) {
            int ch = i / spatial % c;
            float expected = Math.fma((x[i] - params[4 * ch]) - params[4 * ch + 1], params[4 * ch + 2],
                    params[4 * ch + 3]);
            assertEquals(expected, memory.getFloat(py + 4L * i));
        }
        assertTrue(bestOnCpu > FLOOR, String.format("%.1f million instructions per second of CPU time (%.1f of wall "
                + "time), under the floor of %.1f: a third of the rate measured", bestOnCpu / 1e6, best / 1e6,
                FLOOR / 1e6));
    }
}

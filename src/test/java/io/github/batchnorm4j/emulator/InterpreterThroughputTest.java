package io.github.batchnorm4j.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.internal.cuda.FastDivisor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Instructions per second on a shipped kernel: bn_normalize_nchw over a million elements (float4
 * path), in a fresh JVM, best of three launches. Printed for the record; the assertion is only a
 * floor far below the expected rate, so a slow machine does not fail it.
 */
class InterpreterThroughputTest {
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
        double best = 0;
        LaunchStatistics statistics = null;
        for (int run = 0; run < 3; run++) {
            long start = System.nanoTime();
            statistics = Interpreter.launch(kernel, Fixtures.dim(1024), Fixtures.dim(256), 0, args, memory,
                    Schedule.DETERMINISTIC);
            double seconds = (System.nanoTime() - start) / 1e9;
            best = Math.max(best, statistics.instructions() / seconds);
        }
        System.out.printf("bn_normalize_nchw, %d elements: %d instructions, best %.1f million per second%n", count,
                statistics.instructions(), best / 1e6);
        for (int i = 0; i < count; i += 997) {
            int ch = i / spatial % c;
            float expected = Math.fma((x[i] - params[4 * ch]) - params[4 * ch + 1], params[4 * ch + 2],
                    params[4 * ch + 3]);
            assertEquals(expected, memory.getFloat(py + 4L * i));
        }
        assertTrue(best > 2e6, "far below the expected rate: " + best);
    }
}

package io.github.batchnorm4j.bench;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Median seconds per call: after warm-up, samples of k calls each, with k doubled until one sample
 * lasts long enough that the clock's resolution and per-sample overhead do not matter. The call
 * gets its index, so callers can rotate inputs.
 */
final class MedianTimer {
    /** Measures k calls and returns their total seconds; the CPU's is wall time, CUDA's events. */
    interface Sampler {
        double seconds(IntConsumer call, int k);
    }

    private final int samples;
    private final double minSampleSeconds;
    private final double warmupSeconds;
    private final Sampler sampler;

    MedianTimer(boolean quick, Sampler sampler) {
        this.samples = quick ? 5 : 15;
        this.minSampleSeconds = quick ? 0.01 : 0.05;
        this.warmupSeconds = quick ? 0.2 : 1.0;
        this.sampler = sampler;
    }

    /** Wall-clock sampler for host work. */
    static double wallSeconds(IntConsumer call, int k) {
        long start = System.nanoTime();
        for (int i = 0; i < k; i++) {
            call.accept(i);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    double medianSeconds(IntConsumer call) {
        int k = 1;
        double spent = 0;
        // Warm-up (JIT, caches, clocks), which also finds k.
        while (spent < warmupSeconds) {
            double t = sampler.seconds(call, k);
            spent += t;
            if (t < minSampleSeconds && k < (1 << 24)) {
                k *= 2;
            }
        }
        double[] perCall = new double[samples];
        for (int s = 0; s < samples; s++) {
            perCall[s] = sampler.seconds(call, k) / k;
        }
        Arrays.sort(perCall);
        return samples % 2 == 1 ? perCall[samples / 2] : (perCall[samples / 2 - 1] + perCall[samples / 2]) / 2;
    }
}

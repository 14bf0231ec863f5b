package io.github.batchnorm4j;

import io.github.batchnorm4j.bench.BenchCase;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * Times one op of one shape through the public API in a loop, for A/B comparisons of two builds
 * (design.md, 'A/B inside one JVM per block of calls'): the minimum, quartile and median of per-call times over blocks of calls, after a
 * quarter of the blocks as warm-up. With a gap, the thread sleeps that long before each call (the
 * sleep is not timed), as when other layers run between batch-norm calls.
 *
 * <pre>scripts/call-probe LAYOUT:SIZES train|inference|backward [blocks] [gap-microseconds]</pre>
 */
public final class CallProbe {
    private CallProbe() {
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: CallProbe LAYOUT:SIZES train|inference|backward [blocks] [gap-us]");
        }
        Shape shape = BenchCase.parse(args[0]).shape(); // the same LAYOUT:SIZES as bn4j bench --shape
        String op = args[1];
        int blocks = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        long gapNanos = args.length > 3 ? Long.parseLong(args[3]) * 1000 : 0;
        int count = Math.toIntExact(shape.elementCount());
        float[] x = new float[count];
        float[] y = new float[count];
        float[] dy = new float[count];
        float[] dx = new float[count];
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < count; i++) {
            x[i] = (float) (3 + random.nextGaussian());
            dy[i] = (float) random.nextGaussian();
        }
        int callsPerBlock = gapNanos > 0 ? 5 : Math.max(1, (int) (2e7 / count));
        double[] perCall = new double[blocks];
        try (BatchNorm layer = BatchNorm.builder(shape.channels()).build()) {
            layer.forwardTraining(shape, x, y);
            for (int b = 0; b < blocks; b++) {
                long slept = 0;
                long start = System.nanoTime();
                for (int i = 0; i < callsPerBlock; i++) {
                    if (gapNanos > 0) {
                        long before = System.nanoTime();
                        LockSupport.parkNanos(gapNanos);
                        slept += System.nanoTime() - before;
                    }
                    switch (op) {
                        case "train" -> layer.forwardTraining(shape, x, y);
                        case "inference" -> layer.forwardInference(shape, x, y);
                        case "backward" -> layer.backward(shape, x, dy, dx);
                        default -> throw new IllegalArgumentException("op must be train, inference or backward: " + op);
                    }
                }
                perCall[b] = (System.nanoTime() - start - slept) / 1e3 / callsPerBlock;
            }
        }
        double[] measured = Arrays.copyOfRange(perCall, blocks / 4, blocks);
        Arrays.sort(measured);
        System.out.printf("%s %s, %d threads%s: min %.1f us, p25 %.1f, median %.1f%n", args[0], op,
                BatchNormRuntime.cpuThreads(), gapNanos > 0 ? ", " + gapNanos / 1000 + " us between calls" : "",
                measured[0], measured[measured.length / 4], measured[measured.length / 2]);
    }
}

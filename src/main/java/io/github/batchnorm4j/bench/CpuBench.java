package io.github.batchnorm4j.bench;

import io.github.batchnorm4j.BatchNormRuntime;
import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.internal.cpu.ScaleCopy;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Times the CPU path on host arrays: each op of a case, and a scale-copy of the same tensor on the
 * same threads just before, as that run's ceiling. The arrays are reused between calls; the large
 * shapes are many times the last-level cache, so repeats are not served from it.
 */
final class CpuBench implements BackendBench {
    private final MedianTimer timer;

    CpuBench(boolean quick) {
        this.timer = new MedianTimer(quick, MedianTimer::wallSeconds);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String description() {
        return "cpu: " + BatchNormRuntime.cpuThreads() + " threads; " + BatchNormRuntime.cpuLoopsReport();
    }

    @Override
    public String whyNot(BenchCase benchCase) {
        long needed = 4 * benchCase.bytes(); // x, y, dy, dx
        Runtime runtime = Runtime.getRuntime();
        long free = runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory());
        if (needed > free) {
            return String.format("needs %.1f GB of Java heap, %.1f GB free (raise -Xmx through BN4J_JAVA_OPTS)",
                    needed / 1e9, free / 1e9);
        }
        return null;
    }

    @Override
    public List<BenchRecord> run(BenchCase benchCase) {
        Shape shape = benchCase.shape();
        int count = Math.toIntExact(shape.elementCount());
        float[] x = filled(count, 1, 3, 2);
        float[] dy = filled(count, 2, 0, 1);
        float[] y = new float[count];
        float[] dx = new float[count];
        ScaleCopy copy = new ScaleCopy();
        double copySeconds = timer.medianSeconds(i -> copy.run(x, y));
        double copyGbps = 2.0 * benchCase.bytes() / copySeconds / 1e9;
        List<BenchRecord> records = new ArrayList<>();
        try (BatchNorm layer = BatchNorm.builder(shape.channels()).build()) {
            for (BenchOp op : benchCase.ops()) {
                double seconds = switch (op) {
                    case TRAIN_FORWARD -> timer.medianSeconds(i -> layer.forwardTraining(shape, x, y));
                    case INFERENCE -> timer.medianSeconds(i -> layer.forwardInference(shape, x, y));
                    case BACKWARD -> {
                        layer.forwardTraining(shape, x, y); // backward differentiates the latest forward
                        yield timer.medianSeconds(i -> layer.backward(shape, x, dy, dx));
                    }
                };
                records.add(new BenchRecord(op, benchCase, name(), seconds, copyGbps, null, Double.NaN, null));
            }
        }
        return records;
    }

    /** Uniform values with the given mean and standard deviation; the values do not change the speed. */
    static float[] filled(int count, long seed, double mean, double std) {
        float[] values = new float[count];
        SplittableRandom random = new SplittableRandom(seed);
        double halfWidth = std * Math.sqrt(3);
        for (int i = 0; i < count; i++) {
            values[i] = (float) (mean + random.nextDouble(-halfWidth, halfWidth));
        }
        return values;
    }
}

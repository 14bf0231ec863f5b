package io.github.batchnorm4j;

import io.github.batchnorm4j.bench.BenchCase;
import io.github.batchnorm4j.internal.cpu.ScaleCopy;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Training forward, inference and backward of the CPU path, beside a scale-copy of the same bytes
 * on the same worker threads: the copy is the machine's ceiling for a memory-bound pass.
 * scripts/bench-cpu runs it and turns the times into GB/s at each operation's floor pass count
 * (train forward and inference: read x, write y = 2; backward: read x and dy, write dx = 3).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class CpuBatchNormBenchmark {
    /** layout:sizes in memory order, joined by x (JMH splits parameter values at commas). */
    @Param({"NCHW:64x256x28x28", "NCHW:32x64x56x56", "NC:4096x1024"})
    public String shape;

    private Shape parsed;
    private BatchNorm layer;
    private float[] x;
    private float[] y;
    private float[] dy;
    private float[] dx;
    private final ScaleCopy copy = new ScaleCopy();

    @Setup(Level.Trial)
    public void setUp() {
        parsed = BenchCase.parse(shape).shape();
        int count = Math.toIntExact(parsed.elementCount());
        Random random = new Random(1);
        x = new float[count];
        dy = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) (random.nextGaussian() * 2 + 3);
            dy[i] = (float) random.nextGaussian();
        }
        y = new float[count];
        dx = new float[count];
        layer = BatchNorm.builder(parsed.channels()).build();
        layer.forwardTraining(parsed, x, y);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        layer.close();
    }

    @Benchmark
    public float trainForward() {
        layer.forwardTraining(parsed, x, y);
        return y[0];
    }

    @Benchmark
    public float inference() {
        layer.forwardInference(parsed, x, y);
        return y[0];
    }

    @Benchmark
    public float backward() {
        layer.backward(parsed, x, dy, dx);
        return dx[0];
    }

    /** y = 1.0001 * x (+ 0) over the whole tensor, split like the library's work over the same pool. */
    @Benchmark
    public float scaleCopy() {
        copy.run(x, y);
        return y[0];
    }
}

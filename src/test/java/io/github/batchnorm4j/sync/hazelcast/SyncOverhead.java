package io.github.batchnorm4j.sync.hazelcast;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.SyncBatchNorm;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * What synchronization costs per step with two Hazelcast members on loopback (two threads of one
 * JVM, TCP between them): the time of one all-gather of a forward's payload (2 + 2C doubles) and
 * of one all-reduce of a backward's (2C), and a SyncBatchNorm training step (forward + backward)
 * against the plain layer's on the same local batch NC (32, C). Medians over 500 steps after 300
 * of warm-up (scripts/sync-overhead).
 */
public final class SyncOverhead {
    private static final int WARMUP = 300, STEPS = 500, ROWS = 32;

    private SyncOverhead() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("C      all-gather (2+2C doubles)  all-reduce (2C)  sync step (fwd+bwd)  plain step  "
                + "overhead per step");
        for (int channels : new int[] {64, 256, 2048}) {
            List<String> members = Loopback.members(2);
            CompletableFuture<double[]> other = CompletableFuture.supplyAsync(() -> measure(members, 1, channels));
            double[] mine = measure(members, 0, channels);
            other.get();
            System.out.printf(Locale.ROOT, "%-6d %18.3f ms %14.3f ms %16.3f ms %9.3f ms %14.3f ms%n", channels,
                    mine[0], mine[1], mine[2], mine[3], mine[2] - mine[3]);
        }
    }

    /** {gather ms, reduce ms, sync step ms, plain step ms}, medians, for one rank. */
    private static double[] measure(List<String> members, int rank, int channels) {
        try (HazelcastCollective collective = HazelcastCollective.join(members, rank, Duration.ofSeconds(60));
                BatchNorm synced = BatchNorm.builder(channels).build(); BatchNorm plain = BatchNorm.builder(channels)
                        .build()) {
            double[] forwardPayload = new double[2 + 2 * channels], backwardPayload = new double[2 * channels];
            double[] gather = new double[STEPS], reduce = new double[STEPS], sync = new double[STEPS];
            double[] alone = new double[STEPS];
            Shape shape = Shape.nc(ROWS, channels);
            Random random = new Random(rank);
            float[] x = new float[ROWS * channels], dy = new float[x.length], y = new float[x.length];
            float[] dx = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
                dy[i] = (float) random.nextGaussian();
            }
            SyncBatchNorm layer = new SyncBatchNorm(synced, collective);
            for (int step = 0; step < WARMUP + STEPS; step++) {
                long t0 = System.nanoTime();
                collective.allGather(forwardPayload);
                long t1 = System.nanoTime();
                collective.allReduceSum(backwardPayload);
                long t2 = System.nanoTime();
                layer.forwardTraining(shape, x, y);
                layer.backward(shape, x, dy, dx);
                long t3 = System.nanoTime();
                plain.forwardTraining(shape, x, y);
                plain.backward(shape, x, dy, dx);
                long t4 = System.nanoTime();
                if (step >= WARMUP) {
                    int i = step - WARMUP;
                    gather[i] = (t1 - t0) / 1e6;
                    reduce[i] = (t2 - t1) / 1e6;
                    sync[i] = (t3 - t2) / 1e6;
                    alone[i] = (t4 - t3) / 1e6;
                }
            }
            return new double[] {median(gather), median(reduce), median(sync), median(alone)};
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}

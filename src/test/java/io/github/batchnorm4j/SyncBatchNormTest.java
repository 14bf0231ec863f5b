package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.sync.Collective;
import io.github.batchnorm4j.sync.LocalGroup;
import io.github.batchnorm4j.sync.WorldOfOne;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Synchronized batch norm over workers that are threads ({@link LocalGroup}), against one layer
 * that runs the concatenation of every worker's batch (rank order) step by step: outputs, running
 * statistics and gradients within the usual tolerance, and every worker's state bitwise alike.
 */
class SyncBatchNormTest {
    /** Rows of each rank's batch per step: uneven; rank 2 runs out after two steps (0 = empty). */
    private static final int[][] ROWS = {{3, 1, 4, 2}, {1, 5, 2, 2}, {2, 2, 0, 0}};

    static Shape withN(Shape example, int n) {
        return PopulationStatisticsTest.withN(example, n);
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void matchesOneLayerOnTheConcatenation(int world) throws Exception {
        for (Shape example : new Shape[] {Shape.nc(1, 7), Shape.nchw(1, 3, 5, 4), Shape.nhwc(1, 2, 3, 65)}) {
            for (BatchNormBuilder builder : builders(example.channels())) {
                LocalGroup group = new LocalGroup(world);
                run(world, example, builder, group::member);
            }
        }
    }

    /** Plain, renormalizing, and cumulative without affine parameters. */
    static BatchNormBuilder[] builders(int channels) {
        return new BatchNormBuilder[] {BatchNorm.builder(channels),
            BatchNorm.builder(channels).batchRenormalization(1.5, 0.5),
            BatchNorm.builder(channels).cumulativeAverage().affine(false)};
    }

    /**
     * Runs {@link #ROWS}' steps on {@code world} worker threads, each with the collective
     * {@code members} makes for its rank (called on that worker's thread), and checks them.
     */
    static void run(int world, Shape example, BatchNormBuilder builder, IntFunction<Collective> members)
            throws Exception {
        run(world, example, builder, members, CpuBackend::new);
    }

    /** {@link #run(int, Shape, BatchNormBuilder, IntFunction)} with the workers' layers on {@code backend}. */
    static void run(int world, Shape example, BatchNormBuilder builder, IntFunction<Collective> members,
            Supplier<BatchNormBackend> backend) throws Exception {
        int channels = example.channels(), steps = ROWS[0].length;
        Random random = new Random(example.hashCode() + world);
        float[] gamma = TestData.uniform(random, channels, 0.5, 1.5), beta = TestData.gaussian(random, channels);
        float[][][] x = new float[world][steps][], dy = new float[world][steps][];
        for (int r = 0; r < world; r++) {
            for (int s = 0; s < steps; s++) {
                int rows = ROWS[r][s];
                x[r][s] = rows == 0 ? null : TestData.activations(random, withN(example, rows), 100);
                dy[r][s] = rows == 0 ? null : TestData.gaussian(random, x[r][s].length);
            }
        }
        boolean affine = builder.build(new CpuBackend()).config().affine();
        // the reference: one layer, each step's batch the concatenation in rank order
        List<float[]> wantY = new ArrayList<>(), wantDx = new ArrayList<>(), wantDgamma = new ArrayList<>();
        try (BatchNorm one = builder.build(new CpuBackend())) {
            if (affine) {
                one.setGamma(gamma);
                one.setBeta(beta);
            }
            for (int s = 0; s < steps; s++) {
                int rows = 0;
                List<float[]> parts = new ArrayList<>(), grads = new ArrayList<>();
                for (int r = 0; r < world; r++) {
                    if (x[r][s] != null) {
                        rows += ROWS[r][s];
                        parts.add(x[r][s]);
                        grads.add(dy[r][s]);
                    }
                }
                Shape shape = withN(example, rows);
                float[] all = concat(parts), allDy = concat(grads), y = new float[all.length], dx = new float[all.length];
                one.forwardTraining(shape, all, y);
                one.backward(shape, all, allDy, dx);
                wantY.add(y);
                wantDx.add(dx);
                wantDgamma.add(affine ? one.gammaGradient() : new float[0]);
            }
            float[] wantMean = one.runningMean(), wantVar = one.runningVar();

            ExecutorService pool = Executors.newFixedThreadPool(world);
            try {
                List<Future<float[][]>> results = new ArrayList<>();
                for (int r = 0; r < world; r++) {
                    int rank = r;
                    results.add(pool.submit(() -> {
                        Collective collective = members.apply(rank);
                        try {
                            return worker(collective, builder.build(backend.get()), gamma, beta, example, x[rank],
                                    dy[rank], affine);
                        } finally {
                            collective.close();
                        }
                    }));
                }
                float[][] first = results.get(0).get();
                for (int r = 0; r < world; r++) {
                    float[][] got = results.get(r).get();
                    String what = "rank " + r + " of " + world + " " + example + " " + builder.build(new CpuBackend())
                            .config();
                    Tolerance.assertClose(what + " running mean", wantMean, got[0], 1e-5, 1e-5);
                    Tolerance.assertClose(what + " running var", wantVar, got[1], 1e-5, 1e-5);
                    for (int i : new int[] {0, 1, 2 + 2 * steps, 3 + 2 * steps, 4 + 2 * steps}) {
                        assertArrayEquals(first[i], got[i], what + ": the same state on every rank, bit for bit");
                    }
                    for (int s = 0; s < steps; s++) {
                        if (x[r][s] == null) {
                            continue;
                        }
                        int before = 0;
                        for (int q = 0; q < r; q++) {
                            before += x[q][s] == null ? 0 : x[q][s].length;
                        }
                        float[] wantRows = java.util.Arrays.copyOfRange(wantY.get(s), before, before + x[r][s].length);
                        float[] wantDxRows = java.util.Arrays.copyOfRange(wantDx.get(s), before,
                                before + x[r][s].length);
                        Tolerance.assertClose(what + " y step " + s, wantRows, got[2 + 2 * s], 1e-5, 1e-5);
                        Tolerance.assertClose(what + " dx step " + s, wantDxRows, got[3 + 2 * s], 1e-5, 1e-4);
                    }
                    if (affine) {
                        Tolerance.assertClose(what + " dgamma", wantDgamma.get(steps - 1), got[2 + 2 * steps], 1e-4,
                                1e-5);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** One rank's run: {running mean, running var, y and dx per step, dgamma, beta grad, count}. */
    private static float[][] worker(Collective collective, BatchNorm built, float[] gamma, float[] beta,
            Shape example, float[][] x, float[][] dy, boolean affine) {
        try (BatchNorm layer = built) {
            if (affine) {
                layer.setGamma(gamma);
                layer.setBeta(beta);
            }
            SyncBatchNorm sync = new SyncBatchNorm(layer, collective);
            int steps = x.length;
            float[][] out = new float[2 + 2 * steps + 3][];
            for (int s = 0; s < steps; s++) {
                if (x[s] == null) {
                    sync.forwardTrainingEmpty();
                    sync.backwardEmpty();
                    out[2 + 2 * s] = out[3 + 2 * s] = new float[0];
                    continue;
                }
                Shape shape = withN(example, x[s].length / (int) withN(example, 1).elementCount());
                float[] y = new float[x[s].length], dx = new float[x[s].length];
                sync.forwardTraining(shape, x[s], y);
                sync.backward(shape, x[s], dy[s], dx);
                out[2 + 2 * s] = y;
                out[3 + 2 * s] = dx;
            }
            out[0] = layer.runningMean();
            out[1] = layer.runningVar();
            out[2 + 2 * steps] = affine ? layer.gammaGradient() : new float[0];
            out[3 + 2 * steps] = affine ? layer.betaGradient() : new float[0];
            out[4 + 2 * steps] = new float[] {layer.numBatchesTracked()};
            return out;
        }
    }

    @Test
    void aWorldOfOneIsThePlainLayer() {
        Shape shape = Shape.nchw(4, 3, 5, 5);
        float[] x = TestData.activations(new Random(1), shape, 1e3);
        try (BatchNorm plain = BatchNorm.builder(3).build(new CpuBackend());
                BatchNorm alone = BatchNorm.builder(3).build(new CpuBackend())) {
            SyncBatchNorm sync = new SyncBatchNorm(alone);
            assertEquals(1, sync.collective().worldSize());
            float[] y1 = new float[x.length], y2 = new float[x.length];
            plain.forwardTraining(shape, x, y1);
            sync.forwardTraining(shape, x, y2);
            Tolerance.assertClose("world of one y", y1, y2, 1e-6, 1e-6);
            Tolerance.assertClose("world of one running var", plain.runningVar(), alone.runningVar(), 1e-7, 1e-6);
        }
    }

    @Test
    void aBadBatchOnOneRankFailsTheStepEverywhereAndChangesNothing() throws Exception {
        LocalGroup group = new LocalGroup(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            IntFunction<Future<String>> worker = rank -> pool.submit(() -> {
                try (BatchNorm layer = BatchNorm.builder(3).build(new CpuBackend())) {
                    SyncBatchNorm sync = new SyncBatchNorm(layer, group.member(rank));
                    Shape shape = Shape.nc(2, 3);
                    float[] x = {1, 2, 3, 4, 5, 6}, y = new float[6];
                    sync.forwardTraining(shape, x, y); // a good step first
                    float[][] before = TestData.wholeState(layer);
                    if (rank == 1) {
                        x[4] = Float.NaN;
                    }
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> sync.forwardTraining(shape, x, y));
                    float[][] after = TestData.wholeState(layer);
                    for (int i = 0; i < before.length; i++) {
                        assertArrayEquals(before[i], after[i], "rank " + rank + " state " + i);
                    }
                    // one value in the whole step: refused on both ranks
                    IllegalArgumentException single = assertThrows(IllegalArgumentException.class, () -> {
                        if (rank == 0) {
                            sync.forwardTraining(Shape.nc(1, 3), new float[] {1, 2, 3}, new float[3]);
                        } else {
                            sync.forwardTrainingEmpty();
                        }
                    });
                    assertTrue(single.getMessage().contains("training needs more than 1"), single.getMessage());
                    assertEquals(1, layer.numBatchesTracked());
                    return e.getMessage();
                }
            });
            Future<String> a = worker.apply(0), b = worker.apply(1);
            for (String message : new String[] {a.get(), b.get()}) {
                assertTrue(message.contains("rank 1's batch holds a NaN or an infinity in channel 1"), message);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void refusesMismatchedCalls() {
        try (BatchNorm layer = BatchNorm.builder(3).build(new CpuBackend())) {
            SyncBatchNorm sync = new SyncBatchNorm(layer, new WorldOfOne());
            assertThrows(IllegalArgumentException.class, () -> sync.forwardTraining(Shape.nc(2, 4), new float[8],
                    new float[8]));
            assertThrows(IllegalStateException.class, sync::backwardEmpty);
            sync.forwardTraining(Shape.nc(2, 3), new float[] {1, 2, 3, 4, 5, 6}, new float[6]);
            assertThrows(IllegalStateException.class, () -> sync.backward(Shape.nc(3, 3), new float[9], new float[9],
                    new float[9]));
        }
    }

    private static float[] concat(List<float[]> parts) {
        int n = parts.stream().mapToInt(p -> p.length).sum();
        float[] all = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}

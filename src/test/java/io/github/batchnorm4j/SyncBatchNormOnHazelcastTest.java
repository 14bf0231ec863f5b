package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.sync.CollectiveException;
import io.github.batchnorm4j.sync.hazelcast.HazelcastCollective;
import io.github.batchnorm4j.sync.hazelcast.Loopback;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Synchronized batch norm over Hazelcast members in this JVM (loopback): the checks of
 * {@link SyncBatchNormTest} against one layer on the concatenation, and a member that dies
 * mid-step, which fails the others' step with their state unchanged.
 */
@Tag("hazelcast")
class SyncBatchNormOnHazelcastTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void matchesOneLayerOnTheConcatenation(int world) throws Exception {
        Shape example = Shape.nchw(1, 3, 5, 4);
        for (BatchNormBuilder builder : SyncBatchNormTest.builders(3)) {
            List<String> members = Loopback.members(world);
            SyncBatchNormTest.run(world, example, builder, rank -> HazelcastCollective.join(members, rank, TIMEOUT));
        }
    }

    @Test
    void aMemberKilledMidStepFailsTheOthersAndLeavesTheirStateAsItWas() throws Exception {
        List<String> members = Loopback.members(3);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    HazelcastCollective collective = HazelcastCollective.join(members, rank, TIMEOUT);
                    try (BatchNorm layer = BatchNorm.builder(4).build(new CpuBackend())) {
                        SyncBatchNorm sync = new SyncBatchNorm(layer, collective);
                        Shape shape = Shape.nc(3, 4);
                        float[] x = TestData.activations(new Random(rank), shape, 10), y = new float[x.length];
                        float[] dy = TestData.gaussian(new Random(rank + 7), x.length), dx = new float[x.length];
                        sync.forwardTraining(shape, x, y);
                        sync.backward(shape, x, dy, dx);
                        if (rank == 2) {
                            Thread.sleep(300); // its backward values reach the others first
                            collective.instance().getLifecycleService().terminate(); // killed: no goodbye
                            return null;
                        }
                        float[][] before = TestData.wholeState(layer);
                        CollectiveException e = assertThrows(CollectiveException.class,
                                () -> sync.forwardTraining(shape, x, y));
                        assertArrayEquals(new int[] {2}, e.missingRanks(), e.getMessage());
                        float[][] after = TestData.wholeState(layer);
                        for (int i = 0; i < before.length; i++) {
                            assertArrayEquals(before[i], after[i], "rank " + rank + " state " + i);
                        }
                    } finally {
                        if (rank != 2) {
                            collective.close();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> result : results) {
                result.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

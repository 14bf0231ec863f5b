package io.github.batchnorm4j.sync.hazelcast;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.sync.CollectiveException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The Hazelcast collective with embedded members in this JVM, on loopback. */
@Tag("hazelcast")
class HazelcastCollectiveTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void gathersInRankOrderAndDropsALateMessageOfAnEarlierStep() throws Exception {
        List<String> members = Loopback.members(3);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<double[][][]>> results = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    try (HazelcastCollective c = HazelcastCollective.join(members, rank, TIMEOUT)) {
                        assertEquals(3, c.worldSize());
                        double[][] first = c.allGather(new double[] {rank, 10 + rank});
                        double[][] second = c.allGather(rank == 1 ? new double[] {7} : new double[] {rank, rank});
                        if (rank == 0) {
                            // a stray message of step 1 from "rank 2", after every rank finished step 1
                            ByteBuffer stale = ByteBuffer.allocate(16 + 8).order(ByteOrder.LITTLE_ENDIAN);
                            stale.putLong(1).putInt(2).putInt(1).putDouble(-999);
                            c.instance().<byte[]>getReliableTopic("bn4j-sync").publish(stale.array());
                        }
                        double[] sum = c.allReduceSum(new double[] {rank + 1, 0.5});
                        return new double[][][] {first, second, {sum}};
                    }
                }));
            }
            for (int r = 0; r < 3; r++) {
                double[][][] got = results.get(r).get();
                assertArrayEquals(new double[][] {{0, 10}, {1, 11}, {2, 12}}, got[0], "rank " + r + " step 1");
                assertArrayEquals(new double[][] {{0, 0}, {7}, {2, 2}}, got[1], "rank " + r + " step 2");
                assertArrayEquals(new double[] {6, 1.5}, got[2][0], "rank " + r + " all-reduce");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aMemberThatDiesMidStepFailsTheOthersNamingItsRank() throws Exception {
        List<String> members = Loopback.members(3);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    HazelcastCollective c = HazelcastCollective.join(members, rank, TIMEOUT);
                    c.allGather(new double[] {rank});
                    c.allGather(new double[] {rank});
                    if (rank == 2) {
                        Thread.sleep(300); // its step-2 values reach the others first
                        c.instance().getLifecycleService().terminate(); // as a killed process, no goodbye
                        return "terminated";
                    }
                    CollectiveException e = assertThrows(CollectiveException.class,
                            () -> c.allGather(new double[] {rank}));
                    assertArrayEquals(new int[] {2}, e.missingRanks(), e.getMessage());
                    CollectiveException later = assertThrows(CollectiveException.class,
                            () -> c.allGather(new double[] {rank}));
                    assertTrue(later.getMessage().contains("broken"), later.getMessage());
                    c.close();
                    return e.getMessage();
                }));
            }
            for (int r = 0; r < 2; r++) {
                String message = results.get(r).get();
                assertTrue(message.contains("step 3") && message.contains("[2]"), message);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRankThatNeverComesIsNamed() {
        List<String> members = Loopback.members(2);
        CollectiveException e = assertThrows(CollectiveException.class,
                () -> HazelcastCollective.join(members, 0, Duration.ofSeconds(2)));
        assertArrayEquals(new int[] {1}, e.missingRanks(), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HazelcastCollective.join(members, 2, TIMEOUT));
        assertThrows(IllegalArgumentException.class, () -> HazelcastCollective.join(List.of("nohost"), 0, TIMEOUT));
    }
}

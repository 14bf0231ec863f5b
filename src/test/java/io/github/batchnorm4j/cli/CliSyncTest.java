package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.sync.hazelcast.Loopback;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bn4j fit --sync-members ... --sync-rank R}: each process fits its own shard, step b
 * normalizing the concatenation of every shard's batch b. Checked against one layer that runs
 * those concatenations, in separate JVMs (2 members) and in this one (3, uneven shards, one
 * running out first), and with a member killed mid-run.
 */
@Tag("hazelcast")
class CliSyncTest {
    private static final int CHANNELS = 3, H = 2, W = 2, BATCH = 4;

    @TempDir
    Path dir;

    @Test
    void twoProcessesWriteTheStateOfTheConcatenatedBatches() throws Exception {
        int[] shardRows = {10, 7};
        List<float[]> shards = shards(shardRows, 1);
        List<String> members = Loopback.members(2);
        List<Process> processes = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            processes.add(bn4j(fitArgs(r, members, shardRows[r])).start());
        }
        for (int r = 0; r < 2; r++) {
            Process p = processes.get(r);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "rank " + r + " finished");
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), "rank " + r + ": " + err);
        }
        check(shards, shardRows);
    }

    @Test
    void threeMembersWithUnevenShardsOneRunningOutFirst() throws Exception {
        int[] shardRows = {9, 4, 13}; // 3, 1 and 4 batches of up to 4 rows
        List<float[]> shards = shards(shardRows, 2);
        List<String> members = Loopback.members(3);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<CliRun>> runs = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                String[] args = fitArgs(r, members, shardRows[r]);
                runs.add(pool.submit(() -> CliRun.of(args)));
            }
            for (int r = 0; r < 3; r++) {
                CliRun run = runs.get(r).get(120, TimeUnit.SECONDS);
                assertEquals(0, run.exitCode(), "rank " + r + ": " + run);
                assertTrue(run.out().contains("synchronized over 4 steps with 3 processes as rank " + r), run.out());
            }
        } finally {
            pool.shutdownNow();
        }
        check(shards, shardRows);
    }

    @Test
    void aKilledMemberFailsTheOtherNamingItsRankAndNothingIsWritten() throws Exception {
        int[] shardRows = {40000, 40000}; // 10,000 steps: far longer than the kill takes
        shards(shardRows, 3);
        List<String> members = Loopback.members(2);
        Process survivor = bn4j(fitArgs(0, members, shardRows[0])).start();
        Process victim = bn4j(fitArgs(1, members, shardRows[1])).start();
        Thread.sleep(8000); // joined, and stepping
        victim.destroyForcibly();
        assertTrue(survivor.waitFor(120, TimeUnit.SECONDS), "the survivor stops");
        String err = new String(survivor.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertNotEquals(0, survivor.exitValue(), err);
        assertTrue(err.contains("rank(s) [1]"), err);
        assertFalse(err.contains("\tat "), "no stack trace: " + err);
        assertFalse(Files.exists(dir.resolve("state0.npz")), "no state written");
    }

    @Test
    void refusesOptionsThatDoNotFit() throws IOException {
        Path x = dir.resolve("x.npy");
        CliTest.write(x, new float[24], 2, CHANNELS, H, W);
        String[] common = {"fit", "--input", x.toString(), "--layout", "NCHW", "--batch-size", "4", "--state-out",
            dir.resolve("s.npz").toString()};
        String[][] cases = {
            {"--sync-members and --sync-rank go together", "--sync-rank", "0"},
            {"--sync-members and --sync-rank go together", "--sync-members", "127.0.0.1:5701"},
            {"is not one of the 2 --sync-members", "--sync-members", "127.0.0.1:5701,127.0.0.1:5702", "--sync-rank",
                "2"},
            {"is not host:port", "--sync-members", "127.0.0.1", "--sync-rank", "0"},
        };
        for (String[] c : cases) {
            String[] args = Arrays.copyOf(common, common.length + c.length - 1);
            System.arraycopy(c, 1, args, common.length, c.length - 1);
            CliRun run = CliRun.of(args);
            assertEquals(2, run.exitCode(), c[0] + ": " + run);
            assertTrue(run.err().contains(c[0]), c[0] + ": " + run.err());
        }
    }

    private String[] fitArgs(int rank, List<String> members, int rows) {
        return new String[] {"fit", "--input", dir.resolve("x" + rank + ".npy").toString(), "--layout", "NCHW",
            "--batch-size", "" + BATCH, "--state-out", dir.resolve("state" + rank + ".npz").toString(), "--output",
            dir.resolve("y" + rank + ".npy").toString(), "--sync-members", String.join(",", members), "--sync-rank",
            "" + rank, "--sync-timeout", "20"};
    }

    private List<float[]> shards(int[] rows, long seed) throws IOException {
        Random random = new Random(seed);
        List<float[]> shards = new ArrayList<>();
        for (int r = 0; r < rows.length; r++) {
            float[] x = new float[rows[r] * CHANNELS * H * W];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (5 + r + 2 * random.nextGaussian());
            }
            CliTest.write(dir.resolve("x" + r + ".npy"), x, rows[r], CHANNELS, H, W);
            shards.add(x);
        }
        return shards;
    }

    /** One layer on the concatenation of every shard's batch b, step by step, against each process's files. */
    private void check(List<float[]> shards, int[] shardRows) throws IOException {
        int row = CHANNELS * H * W, world = shards.size();
        int steps = Arrays.stream(shardRows).map(n -> (n + BATCH - 1) / BATCH).max().orElse(0);
        List<List<float[]>> wantY = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            wantY.add(new ArrayList<>());
        }
        try (BatchNorm one = BatchNorm.builder(CHANNELS).build()) {
            for (int b = 0; b < steps; b++) {
                List<float[]> parts = new ArrayList<>();
                int total = 0;
                for (int r = 0; r < world; r++) {
                    int first = b * BATCH, rows = Math.max(0, Math.min(BATCH, shardRows[r] - first));
                    float[] part = rows == 0 ? new float[0]
                            : Arrays.copyOfRange(shards.get(r), first * row, (first + rows) * row);
                    parts.add(part);
                    total += rows;
                }
                float[] all = new float[total * row], y = new float[all.length];
                int at = 0;
                for (float[] part : parts) {
                    System.arraycopy(part, 0, all, at, part.length);
                    at += part.length;
                }
                one.forwardTraining(Shape.nchw(total, CHANNELS, H, W), all, y);
                at = 0;
                for (int r = 0; r < world; r++) {
                    wantY.get(r).add(Arrays.copyOfRange(y, at, at + parts.get(r).length));
                    at += parts.get(r).length;
                }
            }
            float[] mean0 = null, var0 = null;
            for (int r = 0; r < world; r++) {
                try (BatchNorm fitted = BatchNorm.fromFile(dir.resolve("state" + r + ".npz"))) {
                    assertClose("rank " + r + " running mean", one.runningMean(), fitted.runningMean(), 1e-5);
                    assertClose("rank " + r + " running var", one.runningVar(), fitted.runningVar(), 1e-5);
                    assertEquals(steps, fitted.numBatchesTracked(), "rank " + r + ": every step counts");
                    if (mean0 == null) {
                        mean0 = fitted.runningMean();
                        var0 = fitted.runningVar();
                    }
                    assertArrayEquals(mean0, fitted.runningMean(), "every process writes the same state");
                    assertArrayEquals(var0, fitted.runningVar(), "every process writes the same state");
                }
                float[] got = CliTest.read(dir.resolve("y" + r + ".npy"));
                float[] want = concat(wantY.get(r));
                assertClose("rank " + r + " outputs (its own rows)", want, got, 1e-5);
            }
        }
    }

    private static float[] concat(List<float[]> parts) {
        int n = parts.stream().mapToInt(p -> p.length).sum(), at = 0;
        float[] all = new float[n];
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    private static void assertClose(String what, float[] want, float[] got, double tolerance) {
        assertEquals(want.length, got.length, what + " length");
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= tolerance * Math.max(1, Math.abs(want[i])),
                    what + " [" + i + "]: want " + want[i] + ", got " + got[i]);
        }
    }

    /** bn4j in a JVM of its own, on this JVM's class path. */
    private static ProcessBuilder bn4j(String[] args) {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "io.github.batchnorm4j.cli.Bn4j"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    }
}

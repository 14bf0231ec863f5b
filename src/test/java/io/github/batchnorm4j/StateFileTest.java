package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.internal.LayerState;
import io.github.batchnorm4j.internal.io.NpyArray;
import io.github.batchnorm4j.internal.io.StateFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Saving and loading layer state as .npz: round trips, and every kind of bad file refused. */
class StateFileTest {
    @TempDir
    Path dir;
    private BatchNorm layer;

    @BeforeEach
    void trainedLayer() {
        Random random = new Random(3);
        layer = BatchNorm.builder(4).eps(1e-3).decay(0.99).biasCorrection(true)
                .runningVariance(VarianceEstimator.BIASED).build();
        layer.setGamma(TestData.uniform(random, 4, 0.5, 2));
        layer.setBeta(TestData.gaussian(random, 4));
        Shape shape = Shape.nc(9, 4);
        for (int i = 0; i < 5; i++) {
            layer.forwardTraining(shape, TestData.activations(random, shape, 2), new float[36]);
        }
    }

    private float[][] snapshot(BatchNorm l) {
        return new float[][] {l.gamma(), l.beta(), l.runningMean(), l.runningVar(), {l.numBatchesTracked()}};
    }

    @Test
    void saveThenLoadRestoresStateAndSettings() throws IOException {
        Path file = dir.resolve("bn.npz");
        layer.save(file);
        try (BatchNorm loaded = BatchNorm.fromFile(file)) {
            for (int i = 0; i < 5; i++) {
                assertArrayEquals(snapshot(layer)[i], snapshot(loaded)[i], "item " + i);
            }
            BatchNormConfig a = layer.config(), b = loaded.config();
            assertEquals(a.toString(), b.toString());
            assertEquals(a.eps(), b.eps());
            assertEquals(a.momentum(), b.momentum());
            assertEquals(a.biasCorrection(), b.biasCorrection());
            assertEquals(a.runningVariance(), b.runningVariance());
        }
        try (BatchNorm cumulative = BatchNorm.builder(2).cumulativeAverage().affine(false).build()) {
            cumulative.save(file);
            try (BatchNorm loaded = BatchNorm.fromFile(file)) {
                assertTrue(loaded.config().cumulativeAverage());
                assertTrue(!loaded.config().affine());
            }
        }
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void membersCarryPyTorchNamesAndDtypes() throws IOException {
        Path file = dir.resolve("bn.npz");
        layer.save(file);
        StateFile f = StateFile.read(file);
        assertEquals("<f4", f.member("weight").dtype);
        assertArrayEquals(new long[] {4}, f.member("running_var").shape);
        assertEquals("<i8", f.member("num_batches_tracked").dtype);
        assertArrayEquals(new long[0], f.member("num_batches_tracked").shape);
        assertEquals(5, f.longScalar("num_batches_tracked"));
        assertEquals(0.01, f.doubleScalar("bn4j_momentum"), 1e-15);
    }

    private void rejected(Path file, String messagePart) {
        float[][] before = snapshot(layer);
        StateFileException error = assertThrows(StateFileException.class, () -> layer.load(file));
        assertTrue(error.getMessage().contains(messagePart), "message should contain '" + messagePart + "': "
                + error.getMessage());
        float[][] after = snapshot(layer);
        for (int i = 0; i < before.length; i++) {
            assertArrayEquals(before[i], after[i], "state item " + i + " changed by a rejected load");
        }
    }

    private Path writeWith(String name, java.util.function.Consumer<Map<String, NpyArray>> edit) throws IOException {
        try (BatchNorm other = BatchNorm.builder(4).build()) {
            Map<String, NpyArray> members = StateFile.membersOf(stateOf(other));
            edit.accept(members);
            Path file = dir.resolve(name);
            StateFile.write(file, members);
            return file;
        }
    }

    private static LayerState stateOf(BatchNorm l) {
        LayerState state = new LayerState(l.config());
        System.arraycopy(l.runningMean(), 0, state.runningMean, 0, l.config().channels());
        return state;
    }

    @Test
    void aFileForAnotherChannelCountIsRefused() throws IOException {
        Path file = dir.resolve("c5.npz");
        try (BatchNorm five = BatchNorm.builder(5).build()) {
            five.save(file);
        }
        rejected(file, "member 'weight' has shape (5,) but the layer has C=4, so it needs (4,)");
    }

    @Test
    void missingMembersWrongDtypesAndBadValuesAreRefused() throws IOException {
        rejected(writeWith("missing.npz", m -> m.remove("running_var")), "missing member 'running_var'");
        rejected(writeWith("dtype.npz", m -> m.put("bias", NpyArray.ofDouble(1))),
                "member 'bias' has dtype '<f8' but must be float32 (4,)");
        rejected(writeWith("count.npz", m -> m.put("num_batches_tracked", NpyArray.ofFloats(new float[1]))),
                "member 'num_batches_tracked' has dtype '<f4' but must be int64 scalar");
        rejected(writeWith("negative.npz", m -> m.put("running_var", NpyArray.ofFloats(new float[] {1, -2, 1, 1}))),
                "member 'running_var' holds -2.0 at channel 1; it must be finite and non-negative");
        rejected(writeWith("nan.npz", m -> m.put("weight", NpyArray.ofFloats(new float[] {1, 1, Float.NaN, 1}))),
                "member 'weight' holds NaN at channel 2");
        rejected(writeWith("negcount.npz", m -> m.put("num_batches_tracked", NpyArray.ofLong(-4))),
                "member 'num_batches_tracked' holds -4; it must be >= 0");
    }

    @Test
    void truncatedAndCorruptFilesAreRefused() throws IOException {
        Path good = dir.resolve("good.npz");
        layer.save(good);
        byte[] bytes = Files.readAllBytes(good);
        Path truncated = dir.resolve("truncated.npz");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        rejected(truncated, "truncated or corrupt");
        Path junk = dir.resolve("junk.npz");
        Files.write(junk, "this is not a zip archive at all".getBytes());
        rejected(junk, "not a readable .npz archive");
        Path empty = dir.resolve("empty.npz");
        Files.write(empty, new byte[0]);
        rejected(empty, "not a readable .npz archive");
        Path badNpy = writeWith("badnpy.npz", m -> m.put("weight", new NpyArray("<f4", new long[] {400},
                java.nio.ByteBuffer.allocate(16))));
        rejected(badNpy, "weight: shape (400,) needs 1600 bytes");
        assertThrows(java.nio.file.NoSuchFileException.class, () -> layer.load(dir.resolve("absent.npz")));
    }

    @Test
    void aFailedSaveLeavesTheOldFileIntact() throws IOException {
        Path file = dir.resolve("bn.npz");
        layer.save(file);
        byte[] before = Files.readAllBytes(file);
        // A member whose bytes cannot be produced fails mid-write, after the archive was started.
        Map<String, NpyArray> members = StateFile.membersOf(stateOf(layer));
        members.put("zz_broken", new NpyArray("<f4", new long[] {2}, java.nio.ByteBuffer.allocate(8)) {
            @Override
            protected byte[] toBytes() {
                throw new IllegalStateException("disk full (simulated)");
            }
        });
        assertThrows(IllegalStateException.class, () -> StateFile.write(file, members));
        assertArrayEquals(before, Files.readAllBytes(file), "the old file is untouched");
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "the temporary file is removed");
        }
    }
}

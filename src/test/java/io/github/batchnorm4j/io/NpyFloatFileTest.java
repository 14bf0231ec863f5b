package io.github.batchnorm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming .npy reader and writer: slices, atomic appearance, and the refusal of bad files. */
class NpyFloatFileTest {
    @TempDir
    Path dir;

    @Test
    void slicesWrittenInPiecesReadBackAtAnyOffset() throws IOException {
        float[] values = new float[300_006]; // more than the writer's 1 MiB staging buffer
        Random random = new Random(1);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        Path file = dir.resolve("x.npy");
        try (NpyFloatWriter writer = NpyFloatWriter.create(file, 7, 42_858, 1)) {
            writer.write(values, 0, 65);
            writer.write(values, 65, values.length - 65);
            writer.commit();
        }
        try (NpyFloatReader reader = NpyFloatReader.open(file)) {
            assertArrayEquals(new long[] {7, 42_858, 1}, reader.shape());
            float[] back = new float[values.length + 3];
            reader.read(0, back, 3, 1000);
            reader.read(1000, back, 1003, values.length - 1000);
            for (int i = 0; i < values.length; i++) {
                assertEquals(values[i], back[i + 3], "value " + i);
            }
            assertThrows(IndexOutOfBoundsException.class, () -> reader.read(values.length - 1, back, 0, 2));
        }
        // The header is numpy's: the same bytes NpyArray writes for a 1-D array.
        byte[] written = Files.readAllBytes(file);
        assertEquals(0, (written.length - values.length * 4) % 64, "data start on a 64-byte boundary");
    }

    @Test
    void anUncommittedFileNeverAppearsAndTheOldOneStays() throws IOException {
        Path file = dir.resolve("y.npy");
        Files.writeString(file, "old");
        try (NpyFloatWriter writer = NpyFloatWriter.create(file, 4)) {
            writer.write(new float[] {1, 2}, 0, 2);
            assertThrows(IllegalStateException.class, writer::commit, "only 2 of 4 values");
        }
        assertEquals("old", Files.readString(file));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left");
        }
        try (NpyFloatWriter writer = NpyFloatWriter.create(file, 2)) {
            assertThrows(IllegalStateException.class, () -> writer.write(new float[3], 0, 3));
        }
        assertEquals("old", Files.readString(file), "a writer closed after a failed write leaves the target");
    }
}

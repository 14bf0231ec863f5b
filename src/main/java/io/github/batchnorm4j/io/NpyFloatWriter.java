package io.github.batchnorm4j.io;

import io.github.batchnorm4j.internal.io.NpyArray;
import io.github.batchnorm4j.internal.io.NpyHeader;
import io.github.batchnorm4j.internal.io.TemporaryFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a float32, C-order NumPy {@code .npy} file of a known shape in sequential slices, and
 * makes it appear atomically: the values go to a temporary file beside the target, which
 * {@link #commit()} syncs and renames over the target. Closing without a commit deletes the
 * temporary file, so a failed run leaves an existing target untouched and no partial file.
 */
public final class NpyFloatWriter implements AutoCloseable {
    private final Path target;
    private final Path temporary;
    private final FileChannel channel;
    private final long elementCount;
    private final ByteBuffer staging = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private long written;
    private boolean done;

    private NpyFloatWriter(Path target, Path temporary, FileChannel channel, long elementCount) {
        this.target = target;
        this.temporary = temporary;
        this.channel = channel;
        this.elementCount = elementCount;
    }

    /** Starts {@code target} with the given shape; the directory must exist and be writable. */
    public static NpyFloatWriter create(Path target, long... shape) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        if (directory == null || !Files.isDirectory(directory)) {
            throw new IOException(target + ": directory " + directory + " does not exist");
        }
        if (Files.isDirectory(absolute)) {
            throw new IOException(target + " is a directory");
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + NpyHeader.shapeString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        Path temporary;
        try {
            temporary = TemporaryFiles.createBeside(absolute);
        } catch (IOException e) {
            throw new IOException(target + ": cannot write in " + directory + " (" + e.getMessage() + ")", e);
        }
        FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE);
        NpyFloatWriter writer = new NpyFloatWriter(absolute, temporary, channel, count);
        try {
            writer.writeFully(ByteBuffer.wrap(NpyHeader.encode(NpyArray.FLOAT32, shape)));
        } catch (IOException e) {
            writer.close();
            throw e;
        }
        return writer;
    }

    /** Appends {@code count} values. */
    public void write(float[] values, int offset, int count) throws IOException {
        if (written + count > elementCount) {
            throw new IllegalStateException("writing " + count + " more values would exceed the " + elementCount
                    + " of the shape (" + written + " written)");
        }
        int done = 0;
        while (done < count) {
            int n = Math.min(count - done, staging.capacity() / Float.BYTES);
            staging.clear();
            staging.asFloatBuffer().put(values, offset + done, n);
            staging.limit(n * Float.BYTES);
            writeFully(staging);
            done += n;
        }
        written += count;
    }

    /** Syncs the file and moves it over the target; every value of the shape must have been written. */
    public void commit() throws IOException {
        if (written != elementCount) {
            throw new IllegalStateException("only " + written + " of " + elementCount + " values were written");
        }
        channel.force(true);
        channel.close();
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        done = true;
    }

    /** Without a commit: deletes the temporary file. After a commit: nothing. */
    @Override
    public void close() throws IOException {
        if (!done) {
            done = true;
            channel.close();
            Files.deleteIfExists(temporary);
        }
    }

    private void writeFully(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }
}

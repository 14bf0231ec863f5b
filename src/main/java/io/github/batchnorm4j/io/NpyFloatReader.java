package io.github.batchnorm4j.io;

import io.github.batchnorm4j.internal.io.NpyArray;
import io.github.batchnorm4j.internal.io.NpyHeader;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A float32, C-order NumPy {@code .npy} file read in slices through memory mapping, so a file far
 * larger than the heap streams batch by batch. Opening checks the dtype, the order and that the
 * file holds every value its shape promises; each problem gets a message naming what was found.
 */
public final class NpyFloatReader implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final long[] shape;
    private final long dataOffset;
    private final long elementCount;

    private NpyFloatReader(Path file, FileChannel channel, NpyHeader header) throws IOException {
        this.file = file;
        this.channel = channel;
        this.shape = header.shape;
        this.dataOffset = header.dataOffset;
        this.elementCount = header.elementCount();
    }

    /** Opens {@code file} and checks its header against its size. */
    public static NpyFloatReader open(Path file) throws IOException {
        String name = file.toString();
        if (!Files.exists(file)) {
            throw new IOException(name + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException(name + ": not a regular file (a directory or a device); give a .npy file");
        }
        NpyHeader header;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            header = NpyHeader.read(new DataInputStream(in), name);
        }
        if (!header.dtype.equals(NpyArray.FLOAT32)) {
            throw new IOException(name + " holds dtype '" + header.dtype + "' (" + describe(header.dtype)
                    + "); batchnorm4j reads float32 ('<f4'): convert with x.astype(numpy.float32)");
        }
        if (header.fortranOrder) {
            throw new IOException(name + " is in Fortran order; save it in C order "
                    + "(numpy.ascontiguousarray(x))");
        }
        long size = Files.size(file);
        long needed = header.dataOffset + header.dataBytes();
        if (size < needed) {
            throw new IOException(name + " is truncated: shape " + header.shapeString() + " needs " + needed
                    + " bytes, the file has " + size);
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        return new NpyFloatReader(file, channel, header);
    }

    /** The array's shape, as stored. */
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        return elementCount;
    }

    public Path file() {
        return file;
    }

    /** Copies {@code count} values starting at flat C-order index {@code first} into {@code target}. */
    public void read(long first, float[] target, int offset, int count) throws IOException {
        if (first < 0 || count < 0 || first + count > elementCount || offset < 0 || offset + count > target.length) {
            throw new IndexOutOfBoundsException("values " + first + ".." + (first + count) + " of " + elementCount
                    + " into " + target.length + " floats at offset " + offset);
        }
        MappedByteBuffer slice = channel.map(FileChannel.MapMode.READ_ONLY, dataOffset + first * Float.BYTES,
                (long) count * Float.BYTES);
        slice.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(target, offset, count);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private static String describe(String dtype) {
        switch (dtype.substring(1)) {
            case "f8":
                return "float64";
            case "f2":
                return "float16";
            case "i4":
                return "int32";
            case "i8":
                return "int64";
            case "u1":
                return "uint8";
            case "b1":
                return "bool";
            default:
                return "not float32";
        }
    }
}

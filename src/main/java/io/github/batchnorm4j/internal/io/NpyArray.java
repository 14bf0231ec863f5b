package io.github.batchnorm4j.internal.io;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One array in NumPy's {@code .npy} format: its dtype string (such as {@code <f4}), its shape
 * (empty for a scalar), and its raw little-endian, C-order bytes. Reads format versions 1 to 3 and
 * writes version 1. Fortran order and big-endian data are refused with a message naming them.
 */
public class NpyArray {
    public static final String FLOAT32 = "<f4";
    static final String FLOAT64 = "<f8";
    static final String INT64 = "<i8";
    static final String BOOL = "|b1";

    public final String dtype;
    public final long[] shape;
    public final ByteBuffer data; // little-endian, positioned at 0

    public NpyArray(String dtype, long[] shape, ByteBuffer data) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data.order(ByteOrder.LITTLE_ENDIAN);
    }

    public static NpyArray ofFloats(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return new NpyArray(FLOAT32, new long[] {values.length}, bytes);
    }

    /** A float32 array of the given shape, whose element count must be {@code values.length}. */
    public static NpyArray ofFloats(float[] values, long[] shape) {
        NpyArray flat = ofFloats(values);
        return new NpyArray(FLOAT32, shape.clone(), flat.data);
    }

    public static NpyArray ofLong(long value) {
        ByteBuffer bytes = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value);
        return new NpyArray(INT64, new long[0], bytes);
    }

    public static NpyArray ofDouble(double value) {
        ByteBuffer bytes = ByteBuffer.allocate(Double.BYTES).order(ByteOrder.LITTLE_ENDIAN).putDouble(0, value);
        return new NpyArray(FLOAT64, new long[0], bytes);
    }

    static NpyArray ofBoolean(boolean value) {
        return new NpyArray(BOOL, new long[0], ByteBuffer.wrap(new byte[] {(byte) (value ? 1 : 0)}));
    }

    long elementCount() {
        long count = 1;
        for (long d : shape) {
            count = Math.multiplyExact(count, d);
        }
        return count;
    }

    public float[] toFloats() {
        float[] values = new float[Math.toIntExact(elementCount())];
        data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    /** The shape as NumPy prints it: {@code (3,)}, {@code ()} or {@code (2, 3)}. */
    String shapeString() {
        return NpyHeader.shapeString(shape);
    }

    /** The whole {@code .npy} file: header padded to a multiple of 64 bytes, then the data. */
    protected byte[] toBytes() {
        byte[] header = NpyHeader.encode(dtype, shape);
        ByteArrayOutputStream out = new ByteArrayOutputStream(header.length + data.capacity());
        out.writeBytes(header);
        byte[] payload = new byte[data.capacity()];
        data.duplicate().position(0).get(payload);
        out.writeBytes(payload);
        return out.toByteArray();
    }

    /**
     * Reads one array. {@code maxBytes} bounds the data size (the enclosing file's size), so a
     * corrupt header cannot ask for gigabytes.
     *
     * @throws IOException whose message names what is wrong, prefixed by {@code name}
     */
    static NpyArray read(InputStream stream, String name, long maxBytes) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        NpyHeader header = NpyHeader.read(in, name);
        if (header.fortranOrder) {
            throw new IOException(name + ": Fortran-order arrays are not supported; save in C order");
        }
        try {
            long bytes = header.dataBytes();
            if (bytes > maxBytes) {
                throw new IOException(name + ": shape " + header.shapeString() + " needs " + bytes
                        + " bytes but at most " + maxBytes + " are stored (truncated or corrupt)");
            }
            byte[] payload = new byte[(int) bytes];
            in.readFully(payload);
            return new NpyArray(header.dtype, header.shape, ByteBuffer.wrap(payload));
        } catch (EOFException e) {
            throw new IOException(name + ": .npy data is truncated", e);
        }
    }
}

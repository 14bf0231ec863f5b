package io.github.batchnorm4j;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One array in NumPy's {@code .npy} format: its dtype string (such as {@code <f4}), its shape
 * (empty for a scalar), and its raw little-endian, C-order bytes. Reads format versions 1 to 3 and
 * writes version 1. Fortran order and big-endian data are refused with a message naming them.
 */
class NpyArray {
    static final String FLOAT32 = "<f4";
    static final String FLOAT64 = "<f8";
    static final String INT64 = "<i8";
    static final String BOOL = "|b1";

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    final String dtype;
    final long[] shape;
    final ByteBuffer data; // little-endian, positioned at 0

    NpyArray(String dtype, long[] shape, ByteBuffer data) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data.order(ByteOrder.LITTLE_ENDIAN);
    }

    static NpyArray ofFloats(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return new NpyArray(FLOAT32, new long[] {values.length}, bytes);
    }

    static NpyArray ofLong(long value) {
        ByteBuffer bytes = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value);
        return new NpyArray(INT64, new long[0], bytes);
    }

    static NpyArray ofDouble(double value) {
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

    float[] toFloats() {
        float[] values = new float[Math.toIntExact(elementCount())];
        data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    /** The shape as NumPy prints it: {@code (3,)}, {@code ()} or {@code (2, 3)}. */
    String shapeString() {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        String joined = Arrays.toString(shape);
        return "(" + joined.substring(1, joined.length() - 1) + ")";
    }

    /** The whole {@code .npy} file: header padded to a multiple of 64 bytes, then the data. */
    byte[] toBytes() {
        String dict = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + shapeString() + ", }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream(unpadded + padding + data.capacity());
        out.writeBytes(MAGIC);
        out.write(1);
        out.write(0);
        out.write(header.length() & 0xff);
        out.write(header.length() >>> 8);
        out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
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
        try {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IOException(name + ": not a .npy array (bad magic bytes)");
            }
            int major = in.readUnsignedByte();
            in.readUnsignedByte();
            long headerLength;
            if (major == 1) {
                headerLength = in.readUnsignedByte() | (in.readUnsignedByte() << 8);
            } else if (major == 2 || major == 3) {
                headerLength = Integer.toUnsignedLong(Integer.reverseBytes(in.readInt()));
            } else {
                throw new IOException(name + ": unsupported .npy format version " + major);
            }
            if (headerLength > 1 << 20) {
                throw new IOException(name + ": .npy header of " + headerLength + " bytes is corrupt");
            }
            byte[] headerBytes = new byte[(int) headerLength];
            in.readFully(headerBytes);
            String header = new String(headerBytes, StandardCharsets.UTF_8);
            Matcher descr = DESCR.matcher(header);
            Matcher fortran = FORTRAN.matcher(header);
            Matcher shapeMatch = SHAPE.matcher(header);
            if (!descr.find() || !fortran.find() || !shapeMatch.find()) {
                throw new IOException(name + ": .npy header is corrupt: " + header.trim());
            }
            if (fortran.group(1).equals("True")) {
                throw new IOException(name + ": Fortran-order arrays are not supported; save in C order");
            }
            String dtype = descr.group(1);
            long[] shape = parseShape(shapeMatch.group(1), name);
            int itemSize = itemSize(dtype, name);
            NpyArray probe = new NpyArray(dtype, shape, ByteBuffer.allocate(0));
            long bytes = Math.multiplyExact(probe.elementCount(), itemSize);
            if (bytes > maxBytes) {
                throw new IOException(name + ": shape " + probe.shapeString() + " needs " + bytes
                        + " bytes but at most " + maxBytes + " are stored (truncated or corrupt)");
            }
            byte[] payload = new byte[(int) bytes];
            in.readFully(payload);
            return new NpyArray(dtype, shape, ByteBuffer.wrap(payload));
        } catch (EOFException e) {
            throw new IOException(name + ": .npy data is truncated", e);
        } catch (ArithmeticException e) {
            throw new IOException(name + ": .npy shape is too large", e);
        }
    }

    private static long[] parseShape(String text, String name) throws IOException {
        String[] parts = text.split(",");
        long[] dims = new long[parts.length];
        int count = 0;
        for (String part : parts) {
            String trimmed = part.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            try {
                dims[count] = Long.parseLong(trimmed.endsWith("L") ? trimmed.substring(0, trimmed.length() - 1) : trimmed);
            } catch (NumberFormatException e) {
                throw new IOException(name + ": .npy shape (" + text + ") is corrupt");
            }
            if (dims[count] < 0) {
                throw new IOException(name + ": .npy shape (" + text + ") has a negative dimension");
            }
            count++;
        }
        return Arrays.copyOf(dims, count);
    }

    private static int itemSize(String dtype, String name) throws IOException {
        if (dtype.length() < 3) {
            throw new IOException(name + ": unknown dtype '" + dtype + "'");
        }
        if (dtype.charAt(0) == '>') {
            throw new IOException(name + ": big-endian dtype '" + dtype + "' is not supported");
        }
        try {
            return Integer.parseInt(dtype.substring(2));
        } catch (NumberFormatException e) {
            throw new IOException(name + ": unsupported dtype '" + dtype + "'");
        }
    }
}

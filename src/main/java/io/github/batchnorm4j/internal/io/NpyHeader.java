package io.github.batchnorm4j.internal.io;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The header of a NumPy {@code .npy} file: dtype, memory order, shape, and where the data start.
 * Reads format versions 1 to 3, writes version 1 (padded so the data start at a multiple of 64).
 */
public final class NpyHeader {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    public final String dtype;
    public final boolean fortranOrder;
    public final long[] shape;
    /** Bytes from the start of the file to the first data byte. */
    public final long dataOffset;

    private NpyHeader(String dtype, boolean fortranOrder, long[] shape, long dataOffset) {
        this.dtype = dtype;
        this.fortranOrder = fortranOrder;
        this.shape = shape;
        this.dataOffset = dataOffset;
    }

    /**
     * Reads the header, leaving {@code in} at the first data byte.
     *
     * @throws IOException whose message names what is wrong, prefixed by {@code name}
     */
    public static NpyHeader read(DataInputStream in, String name) throws IOException {
        try {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IOException(name + ": not a .npy file (bad magic bytes)");
            }
            int major = in.readUnsignedByte();
            in.readUnsignedByte();
            long headerLength;
            int prefix;
            if (major == 1) {
                headerLength = in.readUnsignedByte() | (in.readUnsignedByte() << 8);
                prefix = MAGIC.length + 4;
            } else if (major == 2 || major == 3) {
                headerLength = Integer.toUnsignedLong(Integer.reverseBytes(in.readInt()));
                prefix = MAGIC.length + 6;
            } else {
                throw new IOException(name + ": unsupported .npy format version " + major);
            }
            if (headerLength > 1 << 20) {
                throw new IOException(name + ": .npy header of " + headerLength + " bytes is corrupt");
            }
            byte[] headerBytes = new byte[(int) headerLength];
            in.readFully(headerBytes);
            String header = new String(headerBytes, StandardCharsets.UTF_8);
            // numpy takes the Python 2 'L' suffix on dimensions only in versions 1 and 2.
            NpyHeaderDict dict = NpyHeaderDict.parse(header, major < 3, name);
            NpyHeader parsed = new NpyHeader(dict.descr, dict.fortranOrder, dict.shape, prefix + headerLength);
            itemSize(parsed.dtype, name);
            return parsed;
        } catch (EOFException e) {
            throw new IOException(name + ": .npy header is truncated", e);
        }
    }

    /** A version-1 header for C-order data. */
    public static byte[] encode(String dtype, long[] shape) {
        String dict = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + shapeString(shape) + ", }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String text = dict + " ".repeat(padding) + "\n";
        byte[] bytes = new byte[MAGIC.length + 4 + text.length()];
        System.arraycopy(MAGIC, 0, bytes, 0, MAGIC.length);
        bytes[6] = 1;
        bytes[7] = 0;
        bytes[8] = (byte) (text.length() & 0xff);
        bytes[9] = (byte) (text.length() >>> 8);
        byte[] ascii = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(ascii, 0, bytes, 10, ascii.length);
        return bytes;
    }

    public long elementCount() throws IOException {
        try {
            long count = 1;
            for (long d : shape) {
                count = Math.multiplyExact(count, d);
            }
            return count;
        } catch (ArithmeticException e) {
            throw new IOException(".npy shape " + shapeString(shape) + " is too large", e);
        }
    }

    public long dataBytes() throws IOException {
        try {
            return Math.multiplyExact(elementCount(), itemSize(dtype, "dtype"));
        } catch (ArithmeticException e) {
            throw new IOException(".npy shape " + shapeString(shape) + " is too large", e);
        }
    }

    public String shapeString() {
        return shapeString(shape);
    }

    /** The shape as NumPy prints it: {@code (3,)}, {@code ()} or {@code (2, 3)}. */
    public static String shapeString(long[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        String joined = Arrays.toString(shape);
        return "(" + joined.substring(1, joined.length() - 1) + ")";
    }

    static int itemSize(String dtype, String name) throws IOException {
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

package io.github.batchnorm4j.emulator;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A test-only {@link GlobalMemory}: one byte array at a base address, with bounds and alignment
 * checks (memcheck) and a count of fences. Allocation is a bump pointer, 256-byte aligned as
 * cuMemAlloc is.
 */
final class ByteArrayMemory implements GlobalMemory {
    static final long BASE = 0x7000_0000_0000L;

    private final ByteBuffer bytes;
    private long next = BASE;
    int fences;

    ByteArrayMemory(int capacity) {
        bytes = ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Reserves {@code size} bytes and returns their device address. */
    long allocate(long size) {
        long address = next;
        next = (next + size + 255) / 256 * 256;
        if (next - BASE > bytes.capacity()) {
            throw new IllegalStateException("test memory full");
        }
        return address;
    }

    long allocateFloats(float... values) {
        long address = allocate(4L * values.length);
        for (int i = 0; i < values.length; i++) {
            putFloat(address + 4L * i, values[i]);
        }
        return address;
    }

    long allocateZeros(long bytes) {
        long address = allocate(bytes);
        for (long i = 0; i < bytes; i++) {
            this.bytes.put((int) (address - BASE + i), (byte) 0);
        }
        return address;
    }

    float[] floats(long address, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = getFloat(address + 4L * i);
        }
        return values;
    }

    double[] doubles(long address, int count) {
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
            values[i] = getDouble(address + 8L * i);
        }
        return values;
    }

    private int offset(long address, int size) {
        long offset = address - BASE;
        if (offset < 0 || offset + size > bytes.capacity()) {
            throw new DeviceFault("memcheck", String.format("global access of %d bytes at 0x%x is out of bounds",
                    size, address));
        }
        if (address % size != 0) {
            throw new DeviceFault("memcheck", String.format("global access of %d bytes at 0x%x is misaligned",
                    size, address));
        }
        return (int) offset;
    }

    @Override
    public long load(long address, int size, AccessKind kind, int block, int thread) {
        int at = offset(address, size);
        switch (size) {
            case 1: return bytes.get(at) & 0xFFL;
            case 2: return bytes.getShort(at) & 0xFFFFL;
            case 4: return bytes.getInt(at) & 0xFFFFFFFFL;
            default: return bytes.getLong(at);
        }
    }

    @Override
    public void store(long address, int size, long value, AccessKind kind, int block, int thread) {
        int at = offset(address, size);
        switch (size) {
            case 1: bytes.put(at, (byte) value); break;
            case 2: bytes.putShort(at, (short) value); break;
            case 4: bytes.putInt(at, (int) value); break;
            default: bytes.putLong(at, value); break;
        }
    }

    @Override
    public void fence(int block, int thread) {
        fences++;
    }

    float getFloat(long address) {
        return bytes.getFloat(offset(address, 4));
    }

    void putFloat(long address, float value) {
        bytes.putFloat(offset(address, 4), value);
    }

    double getDouble(long address) {
        return bytes.getDouble(offset(address, 8));
    }

    void putDouble(long address, double value) {
        bytes.putDouble(offset(address, 8), value);
    }

    int getInt(long address) {
        return bytes.getInt(offset(address, 4));
    }

    void putInt(long address, int value) {
        bytes.putInt(offset(address, 4), value);
    }

    long getLong(long address) {
        return bytes.getLong(offset(address, 8));
    }

    void putLong(long address, long value) {
        bytes.putLong(offset(address, 8), value);
    }
}

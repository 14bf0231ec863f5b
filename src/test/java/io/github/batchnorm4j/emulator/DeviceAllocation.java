package io.github.batchnorm4j.emulator;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * One cuMemAlloc: its bytes, which of them something wrote (for initcheck), and, during a
 * launch, which block last wrote each 4-byte word (for the cross-block part of racecheck).
 * Freed allocations stay known, so a late access names the allocation it used to be.
 */
final class DeviceAllocation {
    private static final VarHandle SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    final long base;
    final int size;
    final byte[] bytes;
    /** 1 where a copy, memset, store or atomic wrote the byte since the allocation. */
    final byte[] written;
    /** The device side of pinned host memory (cuMemHostAlloc), not a cuMemAlloc: cuMemFree refuses it. */
    final boolean mapped;
    boolean live = true;

    /** The 32-byte sectors kernels touched in the current launch (the cost model's DRAM traffic). */
    final java.util.BitSet sectors = new java.util.BitSet();
    int sectorsLaunch;

    /** Per 4-byte word, its latest writer and its latest plain reader in a launch; null until needed. */
    WordTags writers;
    WordTags readers;

    DeviceAllocation(long base, int size, boolean mapped) {
        this.base = base;
        this.size = size;
        this.bytes = new byte[size];
        this.written = new byte[size];
        this.mapped = mapped;
    }

    boolean contains(long address) {
        return address >= base && address < base + size;
    }

    long read(int offset, int width) {
        return switch (width) {
            case 1 -> bytes[offset] & 0xFFL;
            case 2 -> ((short) SHORTS.get(bytes, offset)) & 0xFFFFL;
            case 4 -> ((int) INTS.get(bytes, offset)) & 0xFFFF_FFFFL;
            case 8 -> (long) LONGS.get(bytes, offset);
            default -> throw new IllegalArgumentException("access width " + width);
        };
    }

    void write(int offset, int width, long value) {
        switch (width) {
            case 1 -> bytes[offset] = (byte) value;
            case 2 -> SHORTS.set(bytes, offset, (short) value);
            case 4 -> INTS.set(bytes, offset, (int) value);
            case 8 -> LONGS.set(bytes, offset, value);
            default -> throw new IllegalArgumentException("access width " + width);
        }
        for (int i = 0; i < width; i++) {
            written[offset + i] = 1;
        }
    }

    /** The first byte of [offset, offset + width) nothing wrote, or -1. */
    int firstUnwritten(int offset, int width) {
        for (int i = 0; i < width; i++) {
            if (written[offset + i] == 0) {
                return offset + i;
            }
        }
        return -1;
    }

    void trackWriters() {
        if (writers == null) {
            writers = new WordTags((size + 3) / 4);
        }
    }

    void trackReaders() {
        if (readers == null) {
            readers = new WordTags((size + 3) / 4);
        }
    }

    @Override
    public String toString() {
        return (live ? "" : "freed ") + (mapped ? "mapped pinned allocation" : "allocation") + " of " + size
                + " bytes at 0x" + Long.toHexString(base);
    }
}

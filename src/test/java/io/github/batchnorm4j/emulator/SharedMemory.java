package io.github.batchnorm4j.emulator;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * One resident block's shared memory with its checks. Every access must lie inside the block's
 * static plus dynamic shared bytes and be naturally aligned (memcheck); every byte read must have
 * been written by a thread of this block in this launch (initcheck); two threads must not touch a
 * byte, one of them writing, without a bar.sync between (racecheck; two atomics are no race).
 *
 * <p>Time is counted in epochs: a block starts a new one, and so does every bar.sync release.
 * Each byte remembers the epoch and thread of its last write and of its reads in the current
 * epoch (one reader, or "many"); an access conflicts with what happened in the same epoch only.
 * Epochs grow across the blocks that reuse this object, so nothing needs clearing between blocks.
 */
final class SharedMemory {
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int ATOMIC = 1 << 30;
    private static final int MANY = -1;

    private final byte[] data;
    private final int[] writeEpoch;
    private final int[] writer;
    private final int[] readEpoch;
    private final int[] reader;
    private final int size;
    private final int[] blockDim;
    private int clock;
    private int epoch;
    private int blockStart;

    SharedMemory(int size, int[] blockDim) {
        this.size = size;
        this.blockDim = blockDim;
        data = new byte[size];
        writeEpoch = new int[size];
        writer = new int[size];
        readEpoch = new int[size];
        reader = new int[size];
    }

    /** A new block takes this memory over: nothing in it counts as written. */
    void startBlock() {
        blockStart = ++clock;
        epoch = blockStart;
    }

    /** A bar.sync released: accesses before it are ordered before those after it. */
    void barrier() {
        epoch = ++clock;
    }

    int size() {
        return size;
    }

    long load(long address, int bytes, int alignment, int thread) {
        int at = check(address, bytes, alignment, "read");
        for (int i = at; i < at + bytes; i++) {
            requireWritten(i);
            int w = writer[i];
            if (writeEpoch[i] == epoch && (w & ~ATOMIC) != thread) {
                throw race(i, "reads", w & ~ATOMIC, (w & ATOMIC) != 0 ? "atomically updated" : "wrote");
            }
            if (readEpoch[i] != epoch) {
                readEpoch[i] = epoch;
                reader[i] = thread;
            } else if (reader[i] != thread) {
                reader[i] = MANY;
            }
        }
        return read(at, bytes);
    }

    void store(long address, int bytes, int alignment, long value, int thread) {
        int at = check(address, bytes, alignment, "write");
        for (int i = at; i < at + bytes; i++) {
            int w = writer[i];
            if (writeEpoch[i] == epoch && (w & ~ATOMIC) != thread) {
                throw race(i, "writes", w & ~ATOMIC, (w & ATOMIC) != 0 ? "atomically updated" : "wrote");
            }
            if (readEpoch[i] == epoch && reader[i] != thread) {
                throw race(i, "writes", reader[i], "read");
            }
            writeEpoch[i] = epoch;
            writer[i] = thread;
        }
        write(at, bytes, value);
    }

    /** An atomic read-modify-write; returns the old value. */
    long atomic(Instruction in, long address, long b, long c, int thread) {
        int bytes = in.size;
        int at = check(address, bytes, bytes, "atomically update");
        for (int i = at; i < at + bytes; i++) {
            requireWritten(i);
            int w = writer[i];
            if (writeEpoch[i] == epoch && (w & ATOMIC) == 0 && w != thread) {
                throw race(i, "atomically updates", w, "wrote");
            }
            if (readEpoch[i] == epoch && reader[i] != thread) {
                throw race(i, "atomically updates", reader[i], "read");
            }
            writeEpoch[i] = epoch;
            writer[i] = thread | ATOMIC;
        }
        long old = read(at, bytes);
        write(at, bytes, AtomicOps.apply(in, old, b, c));
        return old;
    }

    private int check(long address, int bytes, int alignment, String what) {
        if (address < 0 || address + bytes > size) {
            throw new DeviceFault("memcheck", String.format("%s of %d bytes at shared address 0x%x is outside "
                    + "the block's %d bytes of shared memory", what, bytes, address, size));
        }
        if (address % alignment != 0) {
            throw new DeviceFault("memcheck", String.format("%s of %d bytes at shared address 0x%x is misaligned: "
                    + "it needs %d-byte alignment", what, bytes, address, alignment));
        }
        return (int) address;
    }

    private void requireWritten(int i) {
        if (writeEpoch[i] < blockStart) {
            throw new DeviceFault("initcheck", String.format("reads shared address 0x%x, which no thread of "
                    + "this block has written in this launch", i));
        }
    }

    private DeviceFault race(int i, String access, int other, String otherAccess) {
        String who = other == MANY ? "other threads" : "thread " + coordinates(other);
        return new DeviceFault("racecheck", String.format("%s shared address 0x%x, which %s %s with no "
                + "bar.sync between", access, i, who, otherAccess));
    }

    private String coordinates(int linear) {
        int x = linear % blockDim[0];
        int y = linear / blockDim[0] % blockDim[1];
        int z = linear / (blockDim[0] * blockDim[1]);
        return "(" + x + "," + y + "," + z + ")";
    }

    private long read(int at, int bytes) {
        switch (bytes) {
            case 1: return data[at] & 0xFFL;
            case 2: return (short) SHORT.get(data, at) & 0xFFFFL;
            case 4: return (int) INT.get(data, at) & 0xFFFFFFFFL;
            default: return (long) LONG.get(data, at);
        }
    }

    private void write(int at, int bytes, long value) {
        switch (bytes) {
            case 1: data[at] = (byte) value; break;
            case 2: SHORT.set(data, at, (short) value); break;
            case 4: INT.set(data, at, (int) value); break;
            default: LONG.set(data, at, value); break;
        }
    }
}

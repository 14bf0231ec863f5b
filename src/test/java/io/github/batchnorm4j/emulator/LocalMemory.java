package io.github.batchnorm4j.emulator;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A thread's .local memory (local arrays, the stack depot): bounds and natural alignment are
 * checked (memcheck). Other threads cannot reach it, so there is nothing to race on; it is zero
 * when a block starts, so a read before a write is deterministic.
 */
final class LocalMemory {
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private LocalMemory() {
    }

    private static int check(byte[] local, long address, int bytes, int alignment, String what) {
        if (address < 0 || address + bytes > local.length) {
            throw new DeviceFault("memcheck", String.format("%s of %d bytes at local address 0x%x is outside the "
                    + "thread's %d bytes of local memory", what, bytes, address, local.length));
        }
        if (address % alignment != 0) {
            throw new DeviceFault("memcheck", String.format("%s of %d bytes at local address 0x%x is misaligned: "
                    + "it needs %d-byte alignment", what, bytes, address, alignment));
        }
        return (int) address;
    }

    static long load(byte[] local, long address, int bytes, int alignment) {
        int at = check(local, address, bytes, alignment, "read");
        switch (bytes) {
            case 1: return local[at] & 0xFFL;
            case 2: return (short) SHORT.get(local, at) & 0xFFFFL;
            case 4: return (int) INT.get(local, at) & 0xFFFFFFFFL;
            default: return (long) LONG.get(local, at);
        }
    }

    static void store(byte[] local, long address, int bytes, int alignment, long value) {
        int at = check(local, address, bytes, alignment, "write");
        switch (bytes) {
            case 1: local[at] = (byte) value; break;
            case 2: SHORT.set(local, at, (short) value); break;
            case 4: INT.set(local, at, (int) value); break;
            default: LONG.set(local, at, value); break;
        }
    }
}

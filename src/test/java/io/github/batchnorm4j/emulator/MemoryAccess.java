package io.github.batchnorm4j.emulator;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Loads, stores and atomics of one launch, per state space: parameters from the launch's buffer,
 * global memory through {@link GlobalMemory} (recording warp requests for the statistics), shared
 * memory through the block's {@link SharedMemory}, local memory per thread ({@link LocalMemory}),
 * generic addresses by the shared and local windows.
 *
 * <p>A vector access (.v2, .v4) is checked here for the alignment of the whole vector (memcheck,
 * 8 bytes for .v2.f32, 16 for .v4.f32) and then reaches global memory as one access per element,
 * each of the element's size; the statistics count it as one access of the vector's size.
 */
final class MemoryAccess {
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long WINDOW_BYTES = 1L << 32;

    private final GlobalMemory global;
    private final byte[] parameters;

    MemoryAccess(GlobalMemory global, byte[] parameters) {
        this.global = global;
        this.parameters = parameters;
    }

    private static long extend(Instruction in, long v) {
        if (in.signExtend) {
            int s = 64 - in.size * 8;
            return ((v << s) >> s) & in.registerMask;
        }
        return v;
    }

    long loadParameter(Instruction in, long[] r) {
        return loadParameterAt(in, r[in.a] + in.displacement);
    }

    long loadGlobal(Instruction in, long address, ThreadContext t, BlockExecution block) {
        block.requests.record(t, in.memorySlot, address, in.size);
        return extend(in, global.load(address, in.size, in.accessKind, block.linear, t.linear));
    }

    void storeGlobal(Instruction in, long address, long value, ThreadContext t, BlockExecution block) {
        block.requests.record(t, in.memorySlot, address, in.size);
        global.store(address, in.size, value, in.accessKind, block.linear, t.linear);
    }

    long loadShared(Instruction in, long address, ThreadContext t, BlockExecution block) {
        return extend(in, block.shared.load(address, in.size, in.size, t.linear));
    }

    void storeShared(Instruction in, long address, long value, ThreadContext t, BlockExecution block) {
        block.shared.store(address, in.size, in.size, value, t.linear);
    }

    long loadLocal(Instruction in, long address, ThreadContext t) {
        return extend(in, LocalMemory.load(t.local, address, in.size, in.size));
    }

    void storeLocal(Instruction in, long address, long value, ThreadContext t) {
        LocalMemory.store(t.local, address, in.size, in.size, value);
    }

    static boolean isShared(long genericAddress) {
        long offset = genericAddress - Operands.SHARED_WINDOW;
        return offset >= 0 && offset < WINDOW_BYTES;
    }

    static boolean isLocal(long genericAddress) {
        long offset = genericAddress - Operands.LOCAL_WINDOW;
        return offset >= 0 && offset < WINDOW_BYTES;
    }

    long loadGeneric(Instruction in, long address, ThreadContext t, BlockExecution block) {
        if (isShared(address)) {
            return loadShared(in, address - Operands.SHARED_WINDOW, t, block);
        }
        if (isLocal(address)) {
            return loadLocal(in, address - Operands.LOCAL_WINDOW, t);
        }
        return loadGlobal(in, address, t, block);
    }

    void storeGeneric(Instruction in, long address, long value, ThreadContext t, BlockExecution block) {
        if (isShared(address)) {
            storeShared(in, address - Operands.SHARED_WINDOW, value, t, block);
        } else if (isLocal(address)) {
            storeLocal(in, address - Operands.LOCAL_WINDOW, value, t);
        } else {
            storeGlobal(in, address, value, t, block);
        }
    }

    /** The state space a vector access goes to: generic addresses resolve by their window. */
    private static StateSpace resolve(Instruction in, long address) {
        if (in.space != StateSpace.GENERIC) {
            return in.space;
        }
        return isShared(address) ? StateSpace.SHARED : isLocal(address) ? StateSpace.LOCAL : StateSpace.GLOBAL;
    }

    private static long offsetIn(StateSpace space, Instruction in, long address) {
        if (in.space != StateSpace.GENERIC) {
            return address;
        }
        return space == StateSpace.SHARED ? address - Operands.SHARED_WINDOW
                : space == StateSpace.LOCAL ? address - Operands.LOCAL_WINDOW : address;
    }

    /** ld.v2 / ld.v4 in any space. */
    void loadVector(Instruction in, long[] r, ThreadContext t, BlockExecution block) {
        int[] v = in.vector;
        int total = in.size * v.length;
        long generic = r[in.a] + in.displacement;
        StateSpace space = resolve(in, generic);
        long address = offsetIn(space, in, generic);
        if (space == StateSpace.PARAM) {
            for (int i = 0; i < v.length; i++) {
                r[v[i]] = loadParameterAt(in, address + (long) i * in.size);
            }
            return;
        }
        requireAligned(address, total, space);
        if (space == StateSpace.SHARED) {
            for (int i = 0; i < v.length; i++) {
                r[v[i]] = extend(in, block.shared.load(address + (long) i * in.size, in.size, in.size, t.linear));
            }
            return;
        }
        if (space == StateSpace.LOCAL) {
            for (int i = 0; i < v.length; i++) {
                r[v[i]] = extend(in, LocalMemory.load(t.local, address + (long) i * in.size, in.size, in.size));
            }
            return;
        }
        block.requests.record(t, in.memorySlot, address, total);
        for (int i = 0; i < v.length; i++) {
            r[v[i]] = extend(in, global.load(address + (long) i * in.size, in.size, in.accessKind, block.linear,
                    t.linear));
        }
    }

    private long loadParameterAt(Instruction in, long address) {
        int size = in.size;
        if (address < 0 || address + size > parameters.length || address % size != 0) {
            throw new DeviceFault("memcheck", String.format("ld.param of %d bytes at offset %d is outside the "
                    + "%d-byte parameter buffer or misaligned", size, address, parameters.length));
        }
        int at = (int) address;
        switch (size) {
            case 1: return extend(in, parameters[at] & 0xFFL);
            case 2: return extend(in, (short) SHORT.get(parameters, at) & 0xFFFFL);
            case 4: return extend(in, (int) INT.get(parameters, at) & 0xFFFFFFFFL);
            default: return (long) LONG.get(parameters, at);
        }
    }

    /** st.v2 / st.v4 in global, shared or generic space. */
    void storeVector(Instruction in, long[] r, ThreadContext t, BlockExecution block) {
        int[] v = in.vector;
        int total = in.size * v.length;
        long generic = r[in.a] + in.displacement;
        StateSpace space = resolve(in, generic);
        long address = offsetIn(space, in, generic);
        requireAligned(address, total, space);
        if (space == StateSpace.SHARED) {
            for (int i = 0; i < v.length; i++) {
                block.shared.store(address + (long) i * in.size, in.size, in.size, r[v[i]], t.linear);
            }
            return;
        }
        if (space == StateSpace.LOCAL) {
            for (int i = 0; i < v.length; i++) {
                LocalMemory.store(t.local, address + (long) i * in.size, in.size, in.size, r[v[i]]);
            }
            return;
        }
        block.requests.record(t, in.memorySlot, address, total);
        for (int i = 0; i < v.length; i++) {
            global.store(address + (long) i * in.size, in.size, r[v[i]], in.accessKind, block.linear, t.linear);
        }
    }

    private static void requireAligned(long address, int total, StateSpace space) {
        if (address % total != 0) {
            throw new DeviceFault("memcheck", String.format("%d-byte vector access at %s address 0x%x is "
                    + "misaligned: it needs %d-byte alignment", total, space.name().toLowerCase(java.util.Locale.ROOT),
                    address, total));
        }
    }

    /** atom / red: one indivisible load and store (threads run one at a time). */
    long atomic(Instruction in, long[] r, ThreadContext t, BlockExecution block) {
        long address = r[in.a] + in.displacement;
        long b = r[in.b];
        long c = in.c >= 0 ? r[in.c] : 0;
        StateSpace space = resolve(in, address);
        if (space == StateSpace.LOCAL) {
            throw new DeviceFault("memcheck", String.format("atomic on local address 0x%x", address));
        }
        if (space == StateSpace.SHARED) {
            return block.shared.atomic(in, offsetIn(space, in, address), b, c, t.linear);
        }
        block.requests.record(t, in.memorySlot, address, in.size);
        long old = global.load(address, in.size, AccessKind.ATOMIC, block.linear, t.linear);
        global.store(address, in.size, AtomicOps.apply(in, old, b, c), AccessKind.ATOMIC, block.linear, t.linear);
        return old;
    }

    void fence(ThreadContext t, BlockExecution block) {
        global.fence(block.linear, t.linear);
    }
}

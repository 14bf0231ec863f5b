package io.github.batchnorm4j.emulator;


/**
 * The emulated device's global memory: allocations at addresses of their own (never reused, with
 * unmapped gaps between them, so an overrun or a use after free lands nowhere), the copies and
 * memsets of the driver, and the checks on every access a kernel makes: memcheck (inside a live
 * allocation, naturally aligned), initcheck (the bytes were written since the allocation) and
 * the cross-block part of racecheck ({@link GlobalRaces}).
 */
final class DeviceMemory implements GlobalMemory {
    private static final long FIRST_ADDRESS = 0x7f00_0000_0000L;
    /** cudaMalloc aligns to at least 256 bytes; the gap keeps neighbours apart. */
    private static final long ALIGNMENT = 512;
    private static final long GAP = 64 * 1024;

    /**
     * Allocations in address order (addresses only grow, so appending keeps the order), searched
     * without boxing: a lookup in steady state must not allocate on the caller's thread.
     */
    private long[] bases = new long[16];
    private DeviceAllocation[] allocations = new DeviceAllocation[16];
    private int count;
    private long next = FIRST_ADDRESS;
    private long liveBytes;
    private DeviceAllocation recent;
    private GlobalRaces races;
    private int launches;
    private final java.util.List<DeviceAllocation> touched = new java.util.ArrayList<>();

    /** A new allocation's address, or 0 when {@code bytes} cannot be held. */
    long allocate(long bytes) {
        DeviceAllocation allocation = add(bytes, false);
        if (allocation == null) {
            return 0;
        }
        liveBytes += bytes;
        return allocation.base;
    }

    /**
     * The device side of a pinned host range of {@code bytes}, or null when it cannot be held. It
     * lives in host memory, so it takes nothing from the device's free bytes; the host's bytes are
     * copied into it before every device operation, so all of it counts as written for initcheck.
     */
    DeviceAllocation allocateMapped(long bytes) {
        DeviceAllocation allocation = add(bytes, true);
        if (allocation != null) {
            java.util.Arrays.fill(allocation.written, (byte) 1);
        }
        return allocation;
    }

    private DeviceAllocation add(long bytes, boolean mapped) {
        if (bytes <= 0 || bytes > Integer.MAX_VALUE - 16) {
            return null;
        }
        DeviceAllocation allocation = new DeviceAllocation(next, (int) bytes, mapped);
        if (count == bases.length) {
            bases = java.util.Arrays.copyOf(bases, 2 * count);
            allocations = java.util.Arrays.copyOf(allocations, 2 * count);
        }
        bases[count] = next;
        allocations[count++] = allocation;
        next = (next + bytes + GAP + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        return allocation;
    }

    /** Frees the cuMemAlloc allocation that starts at {@code base}; false when there is none live. */
    boolean free(long base) {
        DeviceAllocation allocation = below(base);
        if (allocation == null || allocation.base != base || !allocation.live || allocation.mapped) {
            return false;
        }
        allocation.live = false;
        liveBytes -= allocation.size;
        return true;
    }

    /** Ends a pinned range's mapping: later accesses through its device address are a use after free. */
    void freeMapped(DeviceAllocation mirror) {
        mirror.live = false;
    }

    long liveBytes() {
        return liveBytes;
    }

    /** The live allocation holding {@code address}, or null. */
    DeviceAllocation live(long address) {
        DeviceAllocation allocation = find(address);
        return allocation != null && allocation.live ? allocation : null;
    }

    private DeviceAllocation find(long address) {
        DeviceAllocation last = recent;
        if (last != null && last.contains(address)) {
            return last;
        }
        DeviceAllocation allocation = below(address);
        if (allocation == null || !allocation.contains(address)) {
            return null;
        }
        recent = allocation;
        return allocation;
    }

    /** The allocation with the greatest base at or below {@code address}, or null. */
    private DeviceAllocation below(long address) {
        int found = java.util.Arrays.binarySearch(bases, 0, count, address);
        int index = found >= 0 ? found : -found - 2;
        return index < 0 ? null : allocations[index];
    }

    /** The live allocation holding all of [address, address + bytes), or a memcheck fault naming why not. */
    DeviceAllocation range(long address, long bytes, String what) {
        DeviceAllocation allocation = find(address);
        if (allocation == null || !allocation.live || address + bytes > allocation.base + allocation.size) {
            throw new DeviceFault("memcheck", what + " of " + bytes + " bytes at 0x" + Long.toHexString(address)
                    + ": " + describe(address, bytes));
        }
        return allocation;
    }

    private String describe(long address, long bytes) {
        DeviceAllocation allocation = find(address);
        if (allocation != null && !allocation.live) {
            return "inside a " + allocation + " (use after free)";
        }
        if (allocation != null) {
            return "runs " + (address + bytes - allocation.base - allocation.size) + " bytes past the end of the "
                    + allocation;
        }
        DeviceAllocation nearest = below(address);
        if (nearest != null && address - nearest.base - nearest.size < GAP) {
            String state = nearest.live ? "" : " (use after free)";
            return "outside every allocation: runs " + (address + bytes - nearest.base - nearest.size)
                    + " bytes past the end of the " + nearest + state;
        }
        return "outside every allocation";
    }

    void copyIn(long target, long host, long bytes) {
        DeviceAllocation allocation = range(target, bytes, "cuMemcpyHtoD");
        int offset = (int) (target - allocation.base);
        HostMemory.read(host, allocation.bytes, offset, (int) bytes);
        java.util.Arrays.fill(allocation.written, offset, offset + (int) bytes, (byte) 1);
    }

    void copyOut(long host, long source, long bytes) {
        DeviceAllocation allocation = range(source, bytes, "cuMemcpyDtoH");
        HostMemory.write(host, allocation.bytes, (int) (source - allocation.base), (int) bytes);
    }

    void copy(long target, long source, long bytes) {
        DeviceAllocation from = range(source, bytes, "cuMemcpyDtoD source");
        DeviceAllocation to = range(target, bytes, "cuMemcpyDtoD target");
        int sourceOffset = (int) (source - from.base);
        int targetOffset = (int) (target - to.base);
        System.arraycopy(from.bytes, sourceOffset, to.bytes, targetOffset, (int) bytes);
        System.arraycopy(from.written, sourceOffset, to.written, targetOffset, (int) bytes);
    }

    void memset(long target, byte value, long bytes) {
        DeviceAllocation allocation = range(target, bytes, "cuMemsetD8");
        int offset = (int) (target - allocation.base);
        java.util.Arrays.fill(allocation.bytes, offset, offset + (int) bytes, value);
        java.util.Arrays.fill(allocation.written, offset, offset + (int) bytes, (byte) 1);
    }

    // ---- kernel accesses ----

    /** Starts a launch of {@code blocks} blocks: a fresh cross-block race record. */
    void beginLaunch(int blocks) {
        races = new GlobalRaces(++launches, blocks);
    }

    /** Ends the launch; returns the distinct 32-byte sectors its kernel touched in global memory. */
    long endLaunch() {
        races = null;
        long sectors = 0;
        for (DeviceAllocation allocation : touched) {
            sectors += allocation.sectors.cardinality();
            allocation.sectors.clear();
        }
        touched.clear();
        return sectors;
    }

    private void touch(DeviceAllocation allocation, int offset, int size) {
        if (allocation.sectorsLaunch != launches) {
            allocation.sectorsLaunch = launches;
            touched.add(allocation);
        }
        allocation.sectors.set(offset >> 5, ((offset + size - 1) >> 5) + 1);
    }

    private DeviceAllocation access(long address, int size, String what) {
        if ((address & (size - 1)) != 0) {
            throw new DeviceFault("memcheck", what + " of " + size + " bytes at 0x" + Long.toHexString(address)
                    + " is misaligned: it needs " + size + "-byte alignment");
        }
        return range(address, size, what);
    }

    @Override
    public long load(long address, int size, AccessKind kind, int block, int thread) {
        DeviceAllocation allocation = access(address, size, "global load");
        int offset = (int) (address - allocation.base);
        int unwritten = allocation.firstUnwritten(offset, size);
        if (unwritten >= 0) {
            throw new DeviceFault("initcheck", "global load of " + size + " bytes at 0x" + Long.toHexString(address)
                    + " reads byte +" + unwritten + " of the " + allocation + ", which nothing wrote since it was allocated");
        }
        if (races != null) {
            touch(allocation, offset, size);
            if (allocation.writers != null) {
                checkRead(allocation, offset, size, kind, block);
            }
            noteRead(allocation, offset, size, block);
        }
        return allocation.read(offset, size);
    }

    @Override
    public void store(long address, int size, long value, AccessKind kind, int block, int thread) {
        DeviceAllocation allocation = access(address, size, kind == AccessKind.ATOMIC ? "global atomic" : "global store");
        int offset = (int) (address - allocation.base);
        if (races != null) {
            touch(allocation, offset, size);
            allocation.trackWriters();
            long word = (address & ~3L);
            if (kind == AccessKind.ATOMIC) {
                races.atomic(block, thread, word);
            }
            checkWrite(allocation, offset, size, kind, block);
        }
        allocation.write(offset, size, value);
    }

    @Override
    public void fence(int block, int thread) {
        if (races != null) {
            races.fence(block, thread);
        }
    }

    private void checkRead(DeviceAllocation allocation, int offset, int size, AccessKind kind, int block) {
        for (int w = offset >> 2; w <= (offset + size - 1) >> 2; w++) {
            if (allocation.writers.launch[w] != races.launch()) {
                continue;
            }
            int writer = allocation.writers.block[w];
            if (kind == AccessKind.LOAD_NONCOHERENT) {
                throw race(allocation, w, "ld.global.nc reads a word block " + writer
                        + " wrote during this launch (the read-only path may return stale data)", block);
            }
            int sequence = allocation.writers.sequence[w];
            if (writer != block && !orderedAfter(allocation, w, sequence, writer, kind, block)) {
                throw race(allocation, w, "reads a word block " + writer + " wrote, with no fence and atomic ordering"
                        + " the write before the read", block);
            }
        }
    }

    /** Tags the words with this read, so a later write by another block can be checked against it. */
    private void noteRead(DeviceAllocation allocation, int offset, int size, int block) {
        allocation.trackReaders();
        int sequence = races.nextAccess(block);
        for (int w = offset >> 2; w <= (offset + size - 1) >> 2; w++) {
            allocation.readers.tag(w, races.launch(), block, sequence);
        }
    }

    private void checkWrite(DeviceAllocation allocation, int offset, int size, AccessKind kind, int block) {
        int sequence = races.nextAccess(block);
        for (int w = offset >> 2; w <= (offset + size - 1) >> 2; w++) {
            if (allocation.readers != null && allocation.readers.launch[w] == races.launch()
                    && allocation.readers.block[w] != block && kind != AccessKind.ATOMIC
                    && !races.ordered(allocation.readers.block[w], allocation.readers.sequence[w], block)) {
                throw race(allocation, w, "overwrites a word block " + allocation.readers.block[w] + " read, with no "
                        + "fence and atomic ordering the read before the write", block);
            }
            if (allocation.writers.launch[w] == races.launch()) {
                int writer = allocation.writers.block[w];
                int previous = allocation.writers.sequence[w];
                if (writer != block && !orderedAfter(allocation, w, previous, writer, kind, block)) {
                    throw race(allocation, w, "overwrites a word block " + writer + " wrote, with no fence and atomic"
                            + " ordering the two writes", block);
                }
            }
            allocation.writers.tag(w, races.launch(), block, kind == AccessKind.ATOMIC ? -sequence : sequence);
        }
    }

    /**
     * Whether an access by {@code block} to word {@code w} is ordered after its latest write, by
     * {@code writer} with tag {@code sequence} (negative for an atomic write): atomics on one word
     * never race; a plain access after an atomic needs the block to have done the latest atomic;
     * after a plain write it needs a fence-and-atomic publication.
     */
    private boolean orderedAfter(DeviceAllocation allocation, int w, int sequence, int writer, AccessKind kind,
            int block) {
        if (sequence < 0) {
            return kind == AccessKind.ATOMIC || races.afterEveryAtomic(block, allocation.base + 4L * w);
        }
        return races.ordered(writer, sequence, block);
    }

    private static DeviceFault race(DeviceAllocation allocation, int word, String what, int block) {
        return new DeviceFault("racecheck", "block " + block + " " + what + " (address 0x"
                + Long.toHexString(allocation.base + 4L * word) + ", in the " + allocation + ")");
    }
}

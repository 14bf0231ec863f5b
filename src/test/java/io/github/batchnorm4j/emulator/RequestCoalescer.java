package io.github.batchnorm4j.emulator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Groups one block's global-memory accesses into warp-level requests: the k-th execution of a
 * static instruction by the threads of one warp is one request. Threads of a warp run close
 * together (round-robin slices), so the open requests of a (warp, instruction) pair fit in a
 * small ring indexed by k; a thread lagging a whole ring behind has its access counted as a
 * request of its own. A request's bytes are the distinct addresses its threads named times the
 * access size (a broadcast of one value to 32 threads uses 4 bytes, as the hardware fetches them
 * once). Totals cover the requests closed so far; {@link #flush} closes the rest.
 */
final class RequestCoalescer {
    private static final int DEPTH = 32;

    /** The open requests of one (warp, instruction): execution index, access size, address and sector sets. */
    private static final class Ring {
        final long[] k = new long[DEPTH];
        final int[] size = new int[DEPTH];
        final int[] count = new int[DEPTH];
        final long[][] sectors = new long[DEPTH][];
        final int[] addressCount = new int[DEPTH];
        final long[][] addresses = new long[DEPTH][];

        Ring() {
            Arrays.fill(k, -1);
            for (int i = 0; i < DEPTH; i++) {
                sectors[i] = new long[8];
                addresses[i] = new long[32];
            }
        }
    }

    private final int slots;
    private final Ring[] rings;
    private final List<Ring> used = new ArrayList<>();
    long requests;
    long bytes;
    long sectors;

    RequestCoalescer(int warps, int memorySlots) {
        this.slots = memorySlots;
        this.rings = new Ring[warps * Math.max(1, memorySlots)];
    }

    void record(ThreadContext t, int slot, long address, int size) {
        int k = t.memoryCounts[slot]++;
        int index = t.warp * slots + slot;
        Ring ring = rings[index];
        if (ring == null) {
            ring = new Ring();
            rings[index] = ring;
            used.add(ring);
        }
        int i = k & (DEPTH - 1);
        if (ring.k[i] != k) {
            if (ring.k[i] > k) {
                requests++;
                bytes += size;
                sectors += ((address + size - 1) >>> 5) - (address >>> 5) + 1;
                return;
            }
            if (ring.k[i] >= 0) {
                close(ring, i);
            }
            ring.k[i] = k;
            ring.size[i] = size;
            ring.count[i] = 0;
            ring.addressCount[i] = 0;
        }
        addAddress(ring, i, address);
        long last = (address + size - 1) >>> 5;
        for (long sector = address >>> 5; sector <= last; sector++) {
            add(ring, i, sector);
        }
    }

    private static void add(Ring ring, int i, long sector) {
        ring.sectors[i] = addDistinct(ring.sectors[i], ring.count, i, sector);
    }

    private static void addAddress(Ring ring, int i, long address) {
        ring.addresses[i] = addDistinct(ring.addresses[i], ring.addressCount, i, address);
    }

    /** Adds {@code value} to the set of {@code counts[i]} values unless it is there; returns the set, grown if need be. */
    private static long[] addDistinct(long[] set, int[] counts, int i, long value) {
        int n = counts[i];
        for (int j = n - 1; j >= 0; j--) {
            if (set[j] == value) {
                return set;
            }
        }
        if (n == set.length) {
            set = Arrays.copyOf(set, n * 2);
        }
        set[n] = value;
        counts[i] = n + 1;
        return set;
    }

    private void close(Ring ring, int i) {
        requests++;
        bytes += (long) ring.addressCount[i] * ring.size[i];
        sectors += ring.count[i];
        ring.k[i] = -1;
    }

    /** Closes every open request (the block has finished). */
    void flush() {
        for (Ring ring : used) {
            for (int i = 0; i < DEPTH; i++) {
                if (ring.k[i] >= 0) {
                    close(ring, i);
                }
            }
        }
    }
}

package io.github.batchnorm4j.emulator;

import java.util.Arrays;

/**
 * Pinned host memory (cuMemAllocHost, cuMemHostAlloc): native memory the stub driver allocated,
 * each range mapped into the device's address space as under UVA, through a device allocation
 * of the same size (its mirror). The host bytes are the truth; because every launch, copy and
 * memset runs to completion when it is issued, copying every mirror in from the host before such
 * an operation and back out after it makes the mapping exact at each operation boundary, which is
 * all a program can observe without a race. Only the bytes the operation changed go back to the
 * host: another host thread may be writing its own pinned buffer meanwhile (a layer staging its
 * next input), and writing the whole mirror back would undo that. The copies are not transfers of
 * the program and are not counted.
 */
final class PinnedHostMemory {
    private long[] hosts = new long[8];
    private DeviceAllocation[] mirrors = new DeviceAllocation[8];
    private int[] flags = new int[8];
    /** Each mirror's bytes as the operation found them, to tell what it changed. */
    private byte[][] before = new byte[8][];
    private int count;

    /** Registers the range at {@code host} mapped through {@code mirror}, allocated with {@code flags}. */
    void add(long host, int allocationFlags, DeviceAllocation mirror) {
        if (count == hosts.length) {
            hosts = Arrays.copyOf(hosts, 2 * count);
            mirrors = Arrays.copyOf(mirrors, 2 * count);
            flags = Arrays.copyOf(flags, 2 * count);
            before = Arrays.copyOf(before, 2 * count);
        }
        before[count] = new byte[mirror.size];
        hosts[count] = host;
        mirrors[count] = mirror;
        flags[count++] = allocationFlags;
    }

    /** Forgets the range that starts at {@code host}; returns its mirror, or null when none starts there. */
    DeviceAllocation remove(long host) {
        for (int i = 0; i < count; i++) {
            if (hosts[i] == host) {
                DeviceAllocation mirror = mirrors[i];
                count--;
                hosts[i] = hosts[count];
                mirrors[i] = mirrors[count];
                flags[i] = flags[count];
                before[i] = before[count];
                mirrors[count] = null;
                before[count] = null;
                return mirror;
            }
        }
        return null;
    }

    /** The device address {@code host} maps to (same offset in the mirror), or -1 outside every range. */
    long devicePointer(long host) {
        int index = indexOf(host);
        return index < 0 ? -1 : mirrors[index].base + (host - hosts[index]);
    }

    /** The flags the range holding {@code host} was allocated with, or -1 outside every range. */
    int flags(long host) {
        int index = indexOf(host);
        return index < 0 ? -1 : flags[index];
    }

    /** Whether all of [host, host + bytes) lies in one pinned range (else an async copy of it is pageable). */
    boolean covers(long host, long bytes) {
        int index = indexOf(host);
        return index >= 0 && host + bytes <= hosts[index] + mirrors[index].size;
    }

    /** Before a device operation: every mirror takes the host's bytes. */
    void toDevice() {
        for (int i = 0; i < count; i++) {
            HostMemory.read(hosts[i], mirrors[i].bytes, 0, mirrors[i].size);
            System.arraycopy(mirrors[i].bytes, 0, before[i], 0, mirrors[i].size);
        }
    }

    /** After a device operation that may have written device memory: the host takes every mirror's bytes. */
    void toHost() {
        for (int i = 0; i < count; i++) {
            byte[] now = mirrors[i].bytes;
            byte[] was = before[i];
            int at = Arrays.mismatch(now, 0, mirrors[i].size, was, 0, mirrors[i].size);
            while (at >= 0) {
                int end = at;
                while (end < mirrors[i].size && now[end] != was[end]) {
                    end++;
                }
                HostMemory.write(hosts[i] + at, now, at, end - at);
                int next = Arrays.mismatch(now, end, mirrors[i].size, was, end, mirrors[i].size);
                at = next < 0 ? -1 : end + next;
            }
        }
    }

    private int indexOf(long host) {
        for (int i = 0; i < count; i++) {
            if (host >= hosts[i] && host < hosts[i] + mirrors[i].size) {
                return i;
            }
        }
        return -1;
    }
}

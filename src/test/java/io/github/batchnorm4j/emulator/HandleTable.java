package io.github.batchnorm4j.emulator;

import java.util.Arrays;

/**
 * Driver handles (streams, events, graphs) to their state, found by a linear search over a
 * long[]: a map keyed by Long would box the handle on every lookup, and a stream or event is
 * looked up on each copy and launch, which must not allocate on the caller's thread. A device
 * holds a handful of each, so the search is short.
 */
final class HandleTable<T> {
    private long[] handles = new long[8];
    private Object[] values = new Object[8];
    private int count;

    void put(long handle, T value) {
        int index = indexOf(handle);
        if (index >= 0) {
            values[index] = value;
            return;
        }
        if (count == handles.length) {
            handles = Arrays.copyOf(handles, 2 * count);
            values = Arrays.copyOf(values, 2 * count);
        }
        handles[count] = handle;
        values[count++] = value;
    }

    /** The value of {@code handle}, or null when it is unknown. */
    T get(long handle) {
        int index = indexOf(handle);
        return index < 0 ? null : at(index);
    }

    /** Forgets {@code handle}; returns its value, or null when it was unknown. */
    T remove(long handle) {
        int index = indexOf(handle);
        if (index < 0) {
            return null;
        }
        T value = at(index);
        count--;
        handles[index] = handles[count];
        values[index] = values[count];
        values[count] = null;
        return value;
    }

    int size() {
        return count;
    }

    /** The value at {@code index} (0 to size() - 1), for a walk over all entries without an iterator. */
    @SuppressWarnings("unchecked")
    T at(int index) {
        return (T) values[index];
    }

    private int indexOf(long handle) {
        for (int i = 0; i < count; i++) {
            if (handles[i] == handle) {
                return i;
            }
        }
        return -1;
    }
}

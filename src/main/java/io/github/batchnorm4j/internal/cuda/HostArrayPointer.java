package io.github.batchnorm4j.internal.cuda;

import jcuda.Pointer;
import jcuda.Sizeof;

/**
 * A JCuda {@link Pointer} to a float array at an offset, rebuilt only when the array or offset
 * changes: a training loop that reuses its arrays copies to and from the device without allocating.
 * Holds on to the last array until the next call with another one, or {@link #clear()}.
 */
final class HostArrayPointer {
    private Object array;
    private long byteOffset = -1;
    private Pointer pointer;

    Pointer to(float[] values, int offset) {
        return to(values, (long) offset * Sizeof.FLOAT);
    }

    Pointer to(double[] values, int offset) {
        return to(values, (long) offset * Sizeof.DOUBLE);
    }

    private Pointer to(Object values, long bytes) {
        if (values != array || bytes != byteOffset) {
            Pointer base = values instanceof float[] f ? Pointer.to(f) : Pointer.to((double[]) values);
            pointer = bytes == 0 ? base : base.withByteOffset(bytes);
            array = values;
            byteOffset = bytes;
        }
        return pointer;
    }

    void clear() {
        array = null;
        pointer = null;
        byteOffset = -1;
    }
}

package io.github.batchnorm4j.internal;

import io.github.batchnorm4j.Shape;
import java.nio.FloatBuffer;

/**
 * The checks of a host-array or buffer call, made before anything runs: each failure names the
 * argument, the shape and what was found, and leaves the layer untouched.
 */
public final class HostArguments {
    private HostArguments() {
    }

    public static int hostCount(Shape shape) {
        long count = shape.elementCount();
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape " + shape + " has " + count
                    + " elements, more than a Java array holds; split the batch");
        }
        return (int) count;
    }

    public static float[] exact(String name, float[] array, Shape shape) {
        if (array == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (shape != null && array.length != shape.elementCount()) {
            throw new IllegalArgumentException(name + " has " + array.length + " floats but shape " + shape
                    + " has " + shape.elementCount());
        }
        return array;
    }

    public static void checkRange(String name, float[] array, int offset, int count, Shape shape) {
        if (array == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (offset < 0) {
            throw new IllegalArgumentException(name + " offset " + offset + " is negative");
        }
        if (offset > array.length || array.length - offset < count) {
            throw new IllegalArgumentException(name + " is too short: shape " + shape + " needs " + count
                    + " floats from offset " + offset + ", the array has " + array.length);
        }
    }

    public static void checkNoPartialOverlap(float[] a, int aOffset, float[] b, int bOffset, int count) {
        if (a == b && aOffset != bOffset && Math.abs((long) aOffset - bOffset) < count) {
            throw new IllegalArgumentException("input and output overlap in part (offsets " + aOffset + " and "
                    + bOffset + ", " + count + " floats): use the same offset for in-place, or separate memory");
        }
    }

    public static void checkBuffer(String name, FloatBuffer buffer, int count, Shape shape, boolean output) {
        if (buffer == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (buffer.remaining() < count) {
            throw new IllegalArgumentException(name + " is too short: shape " + shape + " needs " + count
                    + " floats, the buffer has " + buffer.remaining() + " remaining");
        }
        if (output && buffer.isReadOnly()) {
            throw new IllegalArgumentException(name + " is a read-only buffer");
        }
    }
}

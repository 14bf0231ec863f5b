package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;

import io.github.batchnorm4j.internal.FaultInjection;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * One kernel with its parameter list built once, so a launch allocates nothing on the Java heap.
 * Device-pointer parameters are fixed {@link Pointer}s (see {@link DeviceArgument}); scalar
 * parameters are declared with {@link Scalar} and filled in order before each launch:
 * {@code call.arg(n).arg(eps).launch(...)}.
 */
final class KernelCall {
    /** The type of a scalar kernel parameter. */
    enum Scalar {
        LONG, INT, DOUBLE
    }

    private final String name;
    private final CUfunction function;
    private final Pointer parameters;
    private final Object[] scalars; // long[1], int[1] or double[1] per scalar parameter, in order
    private int next;
    private long launches;

    /**
     * @param slots the kernel's parameters in order: a {@link Pointer} for each device pointer, a
     *              {@link Scalar} for each value
     */
    KernelCall(String name, CUfunction function, Object... slots) {
        this.name = name;
        this.function = function;
        NativePointerObject[] arguments = new NativePointerObject[slots.length];
        int scalarCount = 0;
        for (Object slot : slots) {
            if (slot instanceof Scalar) {
                scalarCount++;
            }
        }
        scalars = new Object[scalarCount];
        int s = 0;
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] instanceof Pointer pointer) {
                arguments[i] = pointer;
            } else if (slots[i] == Scalar.LONG) {
                long[] value = new long[1];
                scalars[s++] = value;
                arguments[i] = Pointer.to(value);
            } else if (slots[i] == Scalar.INT) {
                int[] value = new int[1];
                scalars[s++] = value;
                arguments[i] = Pointer.to(value);
            } else if (slots[i] == Scalar.DOUBLE) {
                double[] value = new double[1];
                scalars[s++] = value;
                arguments[i] = Pointer.to(value);
            } else {
                throw new IllegalArgumentException(name + " parameter " + i + " is neither a Pointer nor a Scalar");
            }
        }
        parameters = Pointer.to(arguments);
    }

    KernelCall arg(long value) {
        slot(long[].class)[0] = value;
        return this;
    }

    KernelCall arg(int value) {
        slot(int[].class)[0] = value;
        return this;
    }

    KernelCall arg(double value) {
        slot(double[].class)[0] = value;
        return this;
    }

    /** Launches with the scalars set since the last launch; every scalar must have been set. */
    void launch(int gridX, int gridY, int blockX, int blockY, CUstream stream) {
        if (next != scalars.length) {
            int given = next;
            next = 0;
            throw new IllegalStateException(name + " takes " + scalars.length + " scalar arguments, " + given + " given");
        }
        next = 0;
        int result = FaultInjection.cudaResult(FaultInjection.Point.CUDA_LAUNCH);
        if (result == 0) {
            result = cuLaunchKernel(function, gridX, gridY, 1, blockX, blockY, 1, 0, stream, parameters, null);
        }
        CudaCalls.check(result, "cuLaunchKernel", name);
        launches++;
    }

    /** Launches so far that the driver accepted. */
    long launches() {
        return launches;
    }

    private <T> T slot(Class<T> type) {
        if (next >= scalars.length || !type.isInstance(scalars[next])) {
            int index = next;
            next = 0;
            String given = type.getComponentType().getName();
            throw new IllegalStateException(index >= scalars.length
                    ? name + " takes " + scalars.length + " scalar arguments; given a " + given + " beyond them"
                    : name + " scalar argument " + index + " is a " + scalars[index].getClass().getComponentType()
                            .getName() + "; given a " + given);
        }
        return type.cast(scalars[next++]);
    }
}

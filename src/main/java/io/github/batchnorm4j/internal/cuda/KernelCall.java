package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;

import io.github.batchnorm4j.internal.FaultInjection;
import java.util.List;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * One kernel with its parameter list built once from {@link Kernel}'s table, so a launch allocates
 * nothing on the Java heap. Device-pointer parameters are fixed {@link Pointer}s given in the
 * table's order (see {@link DeviceArgument}); the other parameters are filled in order before
 * each launch: {@code call.arg(n).arg(eps).launch(...)}. A scalar of the wrong type, too few or
 * too many fail before the driver is called.
 */
final class KernelCall {
    private final Kernel kernel;
    private final CUfunction function;
    private final Pointer parameters;
    private final Object[] scalars; // long[1], int[1] or double[1] per scalar parameter, in order
    private int next;
    private long launches;

    /**
     * @param pointers the kernel's device-pointer parameters, in the order of the table
     */
    KernelCall(Kernel kernel, CUfunction function, Pointer... pointers) {
        this.kernel = kernel;
        this.function = function;
        List<Kernel.Parameter> kinds = kernel.parameters();
        long pointerCount = kinds.stream().filter(kind -> kind == Kernel.Parameter.POINTER).count();
        if (pointers.length != pointerCount) {
            throw new IllegalArgumentException(kernel.symbol() + " takes " + pointerCount + " device pointers, "
                    + pointers.length + " given");
        }
        NativePointerObject[] arguments = new NativePointerObject[kinds.size()];
        scalars = new Object[kinds.size() - pointers.length];
        int p = 0;
        int s = 0;
        for (int i = 0; i < kinds.size(); i++) {
            switch (kinds.get(i)) {
                case POINTER -> arguments[i] = pointers[p++];
                case LONG -> arguments[i] = Pointer.to((long[]) (scalars[s++] = new long[1]));
                case INT -> arguments[i] = Pointer.to((int[]) (scalars[s++] = new int[1]));
                case DOUBLE -> arguments[i] = Pointer.to((double[]) (scalars[s++] = new double[1]));
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
            throw new IllegalStateException(kernel.symbol() + " takes " + scalars.length + " scalar arguments, " + given + " given");
        }
        next = 0;
        int result = FaultInjection.cudaResult(FaultInjection.Point.CUDA_LAUNCH);
        if (result == 0) {
            result = cuLaunchKernel(function, gridX, gridY, 1, blockX, blockY, 1, 0, stream, parameters, null);
        }
        CudaCalls.check(result, "cuLaunchKernel", kernel.symbol());
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
                    ? kernel.symbol() + " takes " + scalars.length + " scalar arguments; given a " + given + " beyond them"
                    : kernel.symbol() + " scalar argument " + index + " is a " + scalars[index].getClass().getComponentType()
                            .getName() + "; given a " + given);
        }
        return type.cast(scalars[next++]);
    }
}

package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.CU_LAUNCH_PARAM_BUFFER_POINTER;
import static jcuda.driver.JCudaDriver.CU_LAUNCH_PARAM_BUFFER_SIZE;
import static jcuda.driver.JCudaDriver.CU_LAUNCH_PARAM_END;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;

import io.github.batchnorm4j.internal.FaultInjection;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * One kernel with its parameters packed, as the kernel's {@code .param} space lays them out, in
 * one direct buffer built once from {@link Kernel}'s table, and passed to {@code cuLaunchKernel}
 * as {@code CU_LAUNCH_PARAM_BUFFER_POINTER}: JCuda then marshals five words per launch instead
 * of a pointer per parameter (about 2 us a launch instead of 13 for 25 parameters, design.md
 * 'Host time per call'), and a launch allocates nothing on the Java heap. Device-pointer
 * parameters are given in the table's order and read at each launch ({@link KernelPointer});
 * the other parameters are filled in order before each launch:
 * {@code call.arg(n).arg(eps).launch(...)}. A scalar of the wrong type, too few or too many fail
 * before the driver is called.
 */
final class KernelCall {
    private final Kernel kernel;
    private final CUfunction function;
    private final ByteBuffer packed;
    private final ByteBuffer packedSize;
    /** cuLaunchKernel's extra array, built at the first launch: JCuda's constants load the driver. */
    private Pointer extra;
    private final KernelPointer[] pointers;
    private final int[] pointerOffsets;
    private final Kernel.Parameter[] scalarKinds;
    private final int[] scalarOffsets;
    private int next;
    private long launches;

    /**
     * @param pointers the kernel's device-pointer parameters, in the order of the table
     */
    KernelCall(Kernel kernel, CUfunction function, KernelPointer... pointers) {
        this.kernel = kernel;
        this.function = function;
        List<Kernel.Parameter> kinds = kernel.parameters();
        long pointerCount = kinds.stream().filter(kind -> kind == Kernel.Parameter.POINTER).count();
        if (pointers.length != pointerCount) {
            throw new IllegalArgumentException(kernel.symbol() + " takes " + pointerCount + " device pointers, "
                    + pointers.length + " given");
        }
        this.pointers = pointers.clone();
        pointerOffsets = new int[pointers.length];
        scalarKinds = new Kernel.Parameter[kinds.size() - pointers.length];
        scalarOffsets = new int[scalarKinds.length];
        int[] offsets = offsets(kernel);
        int p = 0;
        int s = 0;
        for (int i = 0; i < kinds.size(); i++) {
            if (kinds.get(i) == Kernel.Parameter.POINTER) {
                pointerOffsets[p++] = offsets[i];
            } else {
                scalarKinds[s] = kinds.get(i);
                scalarOffsets[s++] = offsets[i];
            }
        }
        int bytes = offsets[kinds.size()];
        packed = ByteBuffer.allocateDirect(Math.max(bytes, 8)).order(ByteOrder.nativeOrder());
        packedSize = ByteBuffer.allocateDirect(Long.BYTES).order(ByteOrder.nativeOrder()).putLong(0, bytes);
    }

    /**
     * Each parameter's byte offset in the {@code .param} space, then its size: every parameter at
     * its natural alignment (8 bytes for pointers, long long and double, 4 for int), as the CUDA
     * ABI lays them out and the kernel reads them.
     */
    static int[] offsets(Kernel kernel) {
        List<Kernel.Parameter> kinds = kernel.parameters();
        int[] offsets = new int[kinds.size() + 1];
        int end = 0;
        for (int i = 0; i < kinds.size(); i++) {
            int size = kinds.get(i) == Kernel.Parameter.INT ? 4 : 8;
            offsets[i] = (end + size - 1) / size * size;
            end = offsets[i] + size;
        }
        offsets[kinds.size()] = end;
        return offsets;
    }

    KernelCall arg(long value) {
        packed.putLong(slot(Kernel.Parameter.LONG, "long"), value);
        return this;
    }

    KernelCall arg(int value) {
        packed.putInt(slot(Kernel.Parameter.INT, "int"), value);
        return this;
    }

    KernelCall arg(double value) {
        packed.putDouble(slot(Kernel.Parameter.DOUBLE, "double"), value);
        return this;
    }

    /** Launches with the scalars set since the last launch; every scalar must have been set. */
    void launch(int gridX, int gridY, int blockX, int blockY, CUstream stream) {
        if (next != scalarKinds.length) {
            int given = next;
            next = 0;
            throw new IllegalStateException(kernel.symbol() + " takes " + scalarKinds.length + " scalar arguments, "
                    + given + " given");
        }
        next = 0;
        for (int i = 0; i < pointers.length; i++) {
            packed.putLong(pointerOffsets[i], pointers[i].deviceAddress());
        }
        int result = FaultInjection.cudaResult(FaultInjection.Point.CUDA_LAUNCH);
        if (result == 0) {
            if (extra == null) {
                extra = Pointer.to(CU_LAUNCH_PARAM_BUFFER_POINTER, Pointer.to(packed), CU_LAUNCH_PARAM_BUFFER_SIZE,
                        Pointer.to(packedSize), CU_LAUNCH_PARAM_END);
            }
            result = cuLaunchKernel(function, gridX, gridY, 1, blockX, blockY, 1, 0, stream, null, extra);
        }
        CudaCalls.check(result, "cuLaunchKernel", kernel.symbol());
        launches++;
    }

    /** Launches so far that the driver accepted. */
    long launches() {
        return launches;
    }

    private int slot(Kernel.Parameter kind, String given) {
        if (next >= scalarKinds.length || scalarKinds[next] != kind) {
            int index = next;
            next = 0;
            throw new IllegalStateException(index >= scalarKinds.length
                    ? kernel.symbol() + " takes " + scalarKinds.length + " scalar arguments; given a " + given
                            + " beyond them"
                    : kernel.symbol() + " scalar argument " + index + " is a " + typeName(scalarKinds[index])
                            + "; given a " + given);
        }
        return scalarOffsets[next++];
    }

    private static String typeName(Kernel.Parameter kind) {
        return switch (kind) {
            case LONG -> "long";
            case INT -> "int";
            case DOUBLE -> "double";
            case POINTER -> "pointer";
        };
    }
}

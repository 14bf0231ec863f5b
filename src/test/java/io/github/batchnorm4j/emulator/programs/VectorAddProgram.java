package io.github.batchnorm4j.emulator.programs;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;

/**
 * A JCuda program of this project's own, using nothing of batchnorm4j: c = a + b on the device
 * with vector_add.cu's kernel (its PTX committed beside it), one thread per element, on the
 * primary context of device 0. Every driver call is checked; a failure names the call. Run by
 * ProgramsOnTheEmulatorTest on the emulated GPU; {@link #main} runs it anywhere JCuda finds a
 * driver.
 */
public final class VectorAddProgram {
    static final int BLOCK = 256;

    private VectorAddProgram() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1 << 20;
        Random random = new Random(7);
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextFloat() * 2 - 1;
            b[i] = random.nextFloat() * 2 - 1;
        }
        float[] c = add(a, b);
        int wrong = 0;
        for (int i = 0; i < n; i++) {
            if (c[i] != a[i] + b[i]) {
                wrong++;
            }
        }
        System.out.println("vector_add on " + n + " elements: " + (wrong == 0 ? "every sum exact" : wrong + " wrong"));
        System.exit(wrong == 0 ? 0 : 1);
    }

    /** a + b, element by element, computed on device 0. */
    public static float[] add(float[] a, float[] b) {
        check(cuInit(0), "cuInit");
        CUdevice device = new CUdevice();
        check(cuDeviceGet(device, 0), "cuDeviceGet");
        CUcontext context = new CUcontext();
        check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        try {
            check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            return addOnTheCurrentContext(a, b);
        } finally {
            cuDevicePrimaryCtxRelease(device);
        }
    }

    /**
     * a + b on the calling thread's current context, which the caller made (the primary one in
     * {@link #add}, a created one in ContextCallsTest); cuInit has run.
     */
    public static float[] addOnTheCurrentContext(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("lengths " + a.length + " and " + b.length);
        }
        int n = a.length;
        long bytes = (long) n * Sizeof.FLOAT;
        CUmodule module = new CUmodule();
        check(cuModuleLoadData(module, ptx()), "cuModuleLoadData");
        try {
            CUfunction function = new CUfunction();
            check(cuModuleGetFunction(function, module, "vector_add"), "cuModuleGetFunction");
            CUdeviceptr da = new CUdeviceptr();
            CUdeviceptr db = new CUdeviceptr();
            CUdeviceptr dc = new CUdeviceptr();
            check(cuMemAlloc(da, bytes), "cuMemAlloc a");
            check(cuMemAlloc(db, bytes), "cuMemAlloc b");
            check(cuMemAlloc(dc, bytes), "cuMemAlloc c");
            try {
                check(cuMemcpyHtoD(da, Pointer.to(a), bytes), "cuMemcpyHtoD a");
                check(cuMemcpyHtoD(db, Pointer.to(b), bytes), "cuMemcpyHtoD b");
                Pointer parameters = Pointer.to(Pointer.to(da), Pointer.to(db), Pointer.to(dc),
                        Pointer.to(new int[] {n}));
                int grid = (n + BLOCK - 1) / BLOCK;
                check(cuLaunchKernel(function, grid, 1, 1, BLOCK, 1, 1, 0, null, parameters, null), "cuLaunchKernel");
                check(cuCtxSynchronize(), "cuCtxSynchronize");
                float[] c = new float[n];
                check(cuMemcpyDtoH(Pointer.to(c), dc, bytes), "cuMemcpyDtoH c");
                return c;
            } finally {
                cuMemFree(da);
                cuMemFree(db);
                cuMemFree(dc);
            }
        } finally {
            cuModuleUnload(module);
        }
    }

    private static String ptx() {
        try (InputStream in = VectorAddProgram.class.getResourceAsStream("vector_add.ptx")) {
            if (in == null) {
                throw new IllegalStateException("vector_add.ptx is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException(call + " failed: " + CUresult.stringFor(result));
        }
    }
}

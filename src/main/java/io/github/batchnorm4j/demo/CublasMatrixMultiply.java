package io.github.batchnorm4j.demo;

import static jcuda.jcublas.JCublas2.cublasCreate;
import static jcuda.jcublas.JCublas2.cublasDestroy;
import static jcuda.jcublas.JCublas2.cublasSgemm;
import static jcuda.jcublas.cublasOperation.CUBLAS_OP_N;
import static jcuda.jcublas.cublasOperation.CUBLAS_OP_T;
import static jcuda.runtime.JCuda.cudaFree;
import static jcuda.runtime.JCuda.cudaMalloc;
import static jcuda.runtime.JCuda.cudaMemcpy;
import static jcuda.runtime.cudaMemcpyKind.cudaMemcpyDeviceToHost;
import static jcuda.runtime.cudaMemcpyKind.cudaMemcpyHostToDevice;

import jcuda.Pointer;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasStatus;

/**
 * {@link MatrixMultiply} through cuBLAS sgemm (JCublas2). Row-major C = op(A) op(B) is computed
 * as the column-major C^T = op(B)^T op(A)^T, so no matrix is transposed in memory. Device buffers
 * grow to the largest call and are reused. libcublas may be missing where the driver works
 * (CUDA 13 machines have libcublas.so.13, JCublas 12.6 needs .so.12): {@link #tryOpen} then
 * returns null with the reason, and the demo runs the plain Java path.
 */
final class CublasMatrixMultiply implements MatrixMultiply {
    private final cublasHandle handle;
    private final Pointer[] device = {new Pointer(), new Pointer(), new Pointer()};
    private final long[] capacity = new long[3];
    private final float[] one = {1f};
    private final float[] zero = {0f};

    private CublasMatrixMultiply(cublasHandle handle) {
        this.handle = handle;
    }

    /** A cuBLAS multiplier, or null when cuBLAS cannot load; {@code whyNot[0]} then says why. */
    static CublasMatrixMultiply tryOpen(String[] whyNot) {
        try {
            cublasHandle handle = new cublasHandle();
            int status = cublasCreate(handle);
            if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
                whyNot[0] = "cublasCreate failed: " + cublasStatus.stringFor(status);
                return null;
            }
            return new CublasMatrixMultiply(handle);
        } catch (LinkageError | RuntimeException e) {
            whyNot[0] = "cuBLAS could not load (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
            return null;
        }
    }

    @Override
    public void multiply(boolean transposeA, boolean transposeB, int m, int n, int k, float[] a, float[] b,
            float[] c, boolean accumulate) {
        Pointer da = upload(0, a, (long) m * k);
        Pointer db = upload(1, b, (long) k * n);
        Pointer dc = accumulate ? upload(2, c, (long) m * n) : reserve(2, (long) m * n);
        check(cublasSgemm(handle, transposeB ? CUBLAS_OP_T : CUBLAS_OP_N, transposeA ? CUBLAS_OP_T : CUBLAS_OP_N,
                n, m, k, Pointer.to(one), db, transposeB ? k : n, da, transposeA ? m : k,
                Pointer.to(accumulate ? one : zero), dc, n), "cublasSgemm");
        check(cudaMemcpy(Pointer.to(c), dc, (long) m * n * Float.BYTES, cudaMemcpyDeviceToHost), "cudaMemcpy");
    }

    @Override
    public String description() {
        return "cuBLAS sgemm (JCublas2)";
    }

    @Override
    public void close() {
        for (int i = 0; i < device.length; i++) {
            if (capacity[i] > 0) {
                cudaFree(device[i]);
                capacity[i] = 0;
            }
        }
        cublasDestroy(handle);
    }

    private Pointer upload(int slot, float[] host, long floats) {
        Pointer target = reserve(slot, floats);
        check(cudaMemcpy(target, Pointer.to(host), floats * Float.BYTES, cudaMemcpyHostToDevice), "cudaMemcpy");
        return target;
    }

    private Pointer reserve(int slot, long floats) {
        if (capacity[slot] < floats) {
            if (capacity[slot] > 0) {
                cudaFree(device[slot]);
            }
            check(cudaMalloc(device[slot], floats * Float.BYTES), "cudaMalloc");
            capacity[slot] = floats;
        }
        return device[slot];
    }

    private static void check(int status, String call) {
        if (status != 0) {
            throw new IllegalStateException(call + " failed with status " + status);
        }
    }
}

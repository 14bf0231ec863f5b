package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemGetAddressRange;

import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.LayerState;
import jcuda.CudaException;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/**
 * Batch norm on an NVIDIA GPU through JCuda, with the kernels of {@code cuda/} ({@link Kernel}'s
 * table): {@link CudaStatistics}, {@link CudaNormalize} and {@link CudaBackward} launch them on
 * the buffers of a {@link CudaWorkspace}.
 *
 * <p>Two kinds of entry point share one implementation: host arrays (copied to the layer's own
 * device buffers and back) and caller-owned device pointers on a caller's stream (no copies of
 * the tensors). The layer's per-channel state lives on the host ({@link LayerState}), is uploaded
 * each call and the results copied back, so both backends share one definition of the state and
 * a failed call leaves it unchanged. That copy-back is why every call ends with the stream
 * synchronized.
 *
 * <p>Steady state allocates nothing: device buffers only grow, kernel parameter lists are built
 * once ({@link KernelCall}), and host pointers are cached ({@link HostArrayPointer}). Launch
 * geometry depends on the shape and the device's SM count only, so results are deterministic on a
 * given GPU: no reduction uses atomics (one atomic counter only picks which block finishes).
 */
public final class CudaBackend implements BatchNormBackend {
    private final CudaContext cuda;
    private final CudaWorkspace w = new CudaWorkspace();
    private final CudaNormalize normalize;
    private final CudaStatistics statistics;
    private final CudaBackward backward;
    private final KernelCall[] kernels;

    // For checking caller pointers.
    private final CUdeviceptr allocationBase = new CUdeviceptr();
    private final long[] allocationSize = new long[1];

    public CudaBackend(CudaContext cuda) {
        this.cuda = cuda;
        normalize = new CudaNormalize(cuda, w);
        statistics = new CudaStatistics(cuda, w, normalize);
        backward = new CudaBackward(cuda, w);
        KernelCall[] a = statistics.kernels(), b = normalize.kernels(), c = backward.kernels();
        kernels = new KernelCall[a.length + b.length + c.length];
        System.arraycopy(a, 0, kernels, 0, a.length);
        System.arraycopy(b, 0, kernels, a.length, b.length);
        System.arraycopy(c, 0, kernels, a.length + b.length, c.length);
    }

    @Override
    public String name() {
        return "cuda";
    }

    /**
     * Kernel launches this backend has made. A training forward takes two, inference two, backward
     * three (two when it sums nothing: inference-mode statistics on a layer without gamma and beta).
     */
    public long kernelLaunches() {
        long total = 0;
        for (KernelCall kernel : kernels) {
            total += kernel.launches();
        }
        return total;
    }

    // ---- host arrays ----

    @Override
    public void forwardTraining(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostY, int yOffset) {
        try {
            cuda.makeCurrent();
            long count = shape.elementCount();
            CudaWorkspace.upload(w.x, w.hostX.to(hostX, xOffset), count);
            w.y.atLeast(count * Sizeof.FLOAT);
            w.aimAtOwnBuffers();
            training(state, shape, null);
            CudaWorkspace.download(w.hostY.to(hostY, yOffset), w.y, count);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public void forwardInference(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostY, int yOffset) {
        try {
            cuda.makeCurrent();
            long count = shape.elementCount();
            CudaWorkspace.upload(w.x, w.hostX.to(hostX, xOffset), count);
            w.y.atLeast(count * Sizeof.FLOAT);
            w.aimAtOwnBuffers();
            inference(state, shape, null);
            CudaWorkspace.download(w.hostY.to(hostY, yOffset), w.y, count);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public void backward(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostDy, int dyOffset,
            float[] hostDx, int dxOffset) {
        try {
            cuda.makeCurrent();
            long count = shape.elementCount();
            CudaWorkspace.upload(w.x, w.hostX.to(hostX, xOffset), count);
            CudaWorkspace.upload(w.y, w.hostDy.to(hostDy, dyOffset), count); // y holds dy
            w.dx.atLeast(count * Sizeof.FLOAT);
            w.aimAtOwnBuffers();
            gradient(state, shape, null);
            CudaWorkspace.download(w.hostDx.to(hostDx, dxOffset), w.dx, count);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    // ---- caller device memory ----

    /** Training forward from the caller's device x into device y, on {@code stream} (null: the default stream). */
    public void forwardTraining(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceY, CUstream stream) {
        try {
            cuda.makeCurrent();
            w.xIn.aimAt(deviceX);
            w.yOut.aimAt(deviceY);
            training(state, shape, stream);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    public void forwardInference(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceY, CUstream stream) {
        try {
            cuda.makeCurrent();
            w.xIn.aimAt(deviceX);
            w.yOut.aimAt(deviceY);
            inference(state, shape, stream);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    public void backward(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceDy, CUdeviceptr deviceDx,
            CUstream stream) {
        try {
            cuda.makeCurrent();
            w.xIn.aimAt(deviceX);
            w.dyIn.aimAt(deviceDy);
            w.dxOut.aimAt(deviceDx);
            gradient(state, shape, stream);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    /**
     * Throws IllegalArgumentException unless {@code pointer} lies in a live device allocation with
     * at least {@code bytes} bytes from it: checked before any launch, since a kernel reading past
     * an allocation is a crash, not an exception.
     */
    public void checkDeviceRange(String name, CUdeviceptr pointer, long bytes, Shape shape) {
        try {
            cuda.makeCurrent();
            int result = cuMemGetAddressRange(allocationBase, allocationSize, pointer);
            if (result != CUresult.CUDA_SUCCESS) {
                throw new IllegalArgumentException(name + " is not a live device allocation of this context ("
                        + CUresult.stringFor(result) + "); was it freed?");
            }
            long available = DeviceAddress.of(allocationBase) + allocationSize[0] - DeviceAddress.of(pointer);
            if (available < bytes) {
                throw new IllegalArgumentException(name + " has " + available + " bytes from the pointer to the end "
                        + "of its allocation but " + shape + " needs " + bytes);
            }
        } catch (CudaException e) {
            throw new IllegalArgumentException(name + " is not a live device allocation of this context ("
                    + e.getMessage() + "); was it freed?", e);
        }
    }

    @Override
    public void close() {
        try {
            cuda.makeCurrent(); // cuMemFree needs the context current on the closing thread
            w.freeBuffers();
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        } finally {
            w.releaseHostArrays();
        }
    }

    // ---- the three operations, on the workspace's xIn/yOut/dyIn/dxOut ----

    private void training(LayerState state, Shape shape, CUstream stream) {
        w.uploadChannelState(state);
        statistics.batchStatisticsAndNormalize(state, shape, state.config.trackRunningStats(), stream);
    }

    private void inference(LayerState state, Shape shape, CUstream stream) {
        w.uploadChannelState(state);
        if (!state.config.trackRunningStats()) {
            statistics.batchStatisticsAndNormalize(state, shape, false, stream);
            return;
        }
        normalize.withRunningStatistics(state, shape, stream);
        state.commitRunning(shape);
    }

    private void gradient(LayerState state, Shape shape, CUstream stream) {
        w.uploadChannelState(state);
        backward.run(state, shape, stream);
    }
}

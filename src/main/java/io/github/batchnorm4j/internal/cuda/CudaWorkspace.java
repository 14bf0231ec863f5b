package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.github.batchnorm4j.internal.FaultInjection;
import io.github.batchnorm4j.internal.LayerState;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * One CUDA layer's device memory and the host side of its copies: the tensors of host-array calls,
 * the per-channel state uploaded each call, the statistics kernels' partials and status, and the
 * kernel arguments that point at either the layer's own buffers or the caller's device memory.
 * Buffers only grow and host pointers are cached, so steady-state calls allocate nothing.
 */
final class CudaWorkspace {
    final DeviceBuffer x = new DeviceBuffer();
    final DeviceBuffer y = new DeviceBuffer();
    final DeviceBuffer dx = new DeviceBuffer();
    final DeviceBuffer gamma = new DeviceBuffer();
    final DeviceBuffer beta = new DeviceBuffer();
    final DeviceBuffer runningMean = new DeviceBuffer();
    final DeviceBuffer runningVar = new DeviceBuffer();
    final DeviceBuffer savedMean = new DeviceBuffer();
    final DeviceBuffer savedInvStd = new DeviceBuffer();
    final DeviceBuffer params = new DeviceBuffer();
    final DeviceBuffer coefficients = new DeviceBuffer();
    final DeviceBuffer gammaGrad = new DeviceBuffer();
    final DeviceBuffer betaGrad = new DeviceBuffer();
    final DeviceBuffer partialA = new DeviceBuffer();
    final DeviceBuffer partialB = new DeviceBuffer();
    final DeviceBuffer partialC = new DeviceBuffer();
    final DeviceBuffer scratch = new DeviceBuffer();
    final DeviceBuffer status = new DeviceBuffer();
    /** The statistics kernels' count of finished blocks: zero between launches (see finalize_statistics.cuh). */
    final DeviceBuffer blocksDone = new DeviceBuffer();
    private final DeviceBuffer[] buffers = {x, y, dx, gamma, beta, runningMean, runningVar, savedMean, savedInvStd,
        params, coefficients, gammaGrad, betaGrad, partialA, partialB, partialC, scratch, status, blocksDone};

    // The tensors of the current call: the layer's own buffers or the caller's device memory.
    final DeviceArgument xIn = new DeviceArgument(x.pointer());
    final DeviceArgument yOut = new DeviceArgument(y.pointer());
    final DeviceArgument dyIn = new DeviceArgument(y.pointer());
    final DeviceArgument dxOut = new DeviceArgument(dx.pointer());

    // Host side of the copies (cached pointers, so steady state allocates nothing).
    final HostArrayPointer hostX = new HostArrayPointer();
    final HostArrayPointer hostY = new HostArrayPointer();
    final HostArrayPointer hostDy = new HostArrayPointer();
    final HostArrayPointer hostDx = new HostArrayPointer();
    private final HostArrayPointer hostGamma = new HostArrayPointer();
    private final HostArrayPointer hostBeta = new HostArrayPointer();
    private final HostArrayPointer hostRunningMean = new HostArrayPointer();
    private final HostArrayPointer hostRunningVar = new HostArrayPointer();
    final HostArrayPointer hostSavedMean = new HostArrayPointer();
    final HostArrayPointer hostSavedInvStd = new HostArrayPointer();
    final HostArrayPointer hostGammaGrad = new HostArrayPointer();
    final HostArrayPointer hostBetaGrad = new HostArrayPointer();
    final int[] statusHost = new int[1];
    final Pointer statusHostPointer = Pointer.to(statusHost);
    double[] meanHost = new double[0];
    float[] invStdHost = new float[0];
    float[] runningMeanHost = new float[0];
    float[] runningVarHost = new float[0];
    float[] paramsHost = new float[0];
    final HostArrayPointer meanHostPointer = new HostArrayPointer();
    final HostArrayPointer invStdHostPointer = new HostArrayPointer();
    final HostArrayPointer runningMeanHostPointer = new HostArrayPointer();
    final HostArrayPointer runningVarHostPointer = new HostArrayPointer();
    final HostArrayPointer paramsHostPointer = new HostArrayPointer();

    /** Host-array calls: the kernels read and write the layer's own buffers. */
    void aimAtOwnBuffers() {
        xIn.aimAt(x.pointer());
        yOut.aimAt(y.pointer());
        dyIn.aimAt(y.pointer());
        dxOut.aimAt(dx.pointer());
    }

    /** Uploads gamma, beta and the running statistics, and waits for the copies (see below). */
    void uploadChannelState(LayerState state) {
        int channels = state.config.channels();
        upload(gamma, hostGamma.to(state.gamma, 0), channels);
        upload(beta, hostBeta.to(state.beta, 0), channels);
        upload(runningMean, hostRunningMean.to(state.runningMean, 0), channels);
        upload(runningVar, hostRunningVar.to(state.runningVar, 0), channels);
        idleUntilUploaded();
    }

    /**
     * A synchronous copy from pageable memory may return before its DMA ends, and that DMA runs on
     * the legacy default stream, which a caller's non-blocking stream does not wait for. Waiting
     * here orders the uploads before kernels on any stream.
     */
    static void idleUntilUploaded() {
        CudaCalls.check(cuStreamSynchronize(null), "cuStreamSynchronize", "default stream");
    }

    static void synchronize(CUstream stream) {
        CudaCalls.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    static void upload(DeviceBuffer buffer, Pointer host, long floats) {
        long bytes = floats * Sizeof.FLOAT;
        CUdeviceptr target = buffer.atLeast(bytes);
        int result = FaultInjection.cudaResult(FaultInjection.Point.CUDA_COPY);
        if (result == 0) {
            result = cuMemcpyHtoD(target, host, bytes);
        }
        CudaCalls.check(result, "cuMemcpyHtoD");
    }

    static void download(Pointer host, DeviceBuffer buffer, long floats) {
        int result = FaultInjection.cudaResult(FaultInjection.Point.CUDA_COPY);
        if (result == 0) {
            result = cuMemcpyDtoH(host, buffer.pointer(), floats * Sizeof.FLOAT);
        }
        CudaCalls.check(result, "cuMemcpyDtoH");
    }

    void ensureHost(int channels) {
        if (meanHost.length < channels) {
            meanHost = new double[channels];
            invStdHost = new float[channels];
            runningMeanHost = new float[channels];
            runningVarHost = new float[channels];
            paramsHost = new float[4 * channels];
        }
    }

    /** Frees every device buffer; the context must be current. */
    void freeBuffers() {
        for (DeviceBuffer buffer : buffers) {
            buffer.close();
        }
    }

    /** Lets go of the caller's arrays that the host pointers still reference. */
    void releaseHostArrays() {
        for (HostArrayPointer pointer : new HostArrayPointer[] {hostX, hostY, hostDy, hostDx}) {
            pointer.clear();
        }
    }
}

package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.github.batchnorm4j.internal.FaultInjection;
import jcuda.Sizeof;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * One CUDA layer's working memory: the tensors of host-array calls with their page-locked
 * staging and the layer's own stream, the kernels' partials, parameters, coefficients and
 * scratch, and the kernel arguments that point at either the layer's own tensors or the caller's
 * device memory. Buffers only grow, so steady-state calls allocate nothing.
 */
final class CudaWorkspace {
    final DeviceBuffer x = new DeviceBuffer();
    final DeviceBuffer y = new DeviceBuffer();
    final DeviceBuffer dx = new DeviceBuffer();
    final DeviceBuffer params = new DeviceBuffer();
    final DeviceBuffer coefficients = new DeviceBuffer();
    final DeviceBuffer partialA = new DeviceBuffer();
    final DeviceBuffer partialB = new DeviceBuffer();
    final DeviceBuffer partialC = new DeviceBuffer();
    final DeviceBuffer scratch = new DeviceBuffer();
    /** The finishing kernels' count of finished blocks: zero between launches (see last_block.cuh). */
    final DeviceBuffer blocksDone = new DeviceBuffer();
    private final DeviceBuffer[] buffers = {x, y, dx, params, coefficients, partialA, partialB, partialC, scratch,
        blocksDone};

    // The tensors of the current call: the layer's own buffers or the caller's device memory.
    final DeviceArgument xIn = new DeviceArgument(x.pointer());
    final DeviceArgument yOut = new DeviceArgument(y.pointer());
    final DeviceArgument dyIn = new DeviceArgument(y.pointer());
    final DeviceArgument dxOut = new DeviceArgument(dx.pointer());

    // Host-array calls stage through page-locked memory, so their copies are asynchronous.
    final PinnedBuffer stagingIn = new PinnedBuffer(false);
    final PinnedBuffer stagingIn2 = new PinnedBuffer(false);
    final PinnedBuffer stagingOut = new PinnedBuffer(false);
    private CUstream stream;
    /** Synchronizations and copies this layer's calls made (the bench reports them per call). */
    long synchronizations;
    long copies;

    /** Host-array calls: the kernels read and write the layer's own buffers. */
    void aimAtOwnBuffers() {
        xIn.aimAt(x.pointer());
        yOut.aimAt(y.pointer());
        dyIn.aimAt(y.pointer());
        dxOut.aimAt(dx.pointer());
    }

    /** The layer's own stream for host-array calls: non-blocking, so it never waits for the legacy stream. */
    CUstream stream() {
        if (stream == null) {
            CUstream created = new CUstream();
            CudaCalls.check(cuStreamCreate(created, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
            stream = created;
        }
        return stream;
    }

    /** Stages {@code count} floats of {@code host} and copies them into {@code buffer} on the layer's stream. */
    void upload(DeviceBuffer buffer, PinnedBuffer staging, float[] host, int offset, int count) {
        long bytes = (long) count * Sizeof.FLOAT;
        buffer.atLeast(bytes);
        staging.atLeast(bytes).put(host, offset, count);
        int result = FaultInjection.cudaResult(FaultInjection.Point.CUDA_COPY);
        if (result == 0) {
            result = cuMemcpyHtoDAsync(buffer.pointer(), staging.host(), bytes, stream());
        }
        CudaCalls.check(result, "cuMemcpyHtoDAsync");
        copies++;
    }

    /** Copies {@code count} floats of {@code buffer} to the staging memory, waits for the stream, then into {@code host}. */
    void download(float[] host, int offset, DeviceBuffer buffer, int count) {
        long bytes = (long) count * Sizeof.FLOAT;
        stagingOut.atLeast(bytes);
        int result = FaultInjection.cudaResult(FaultInjection.Point.CUDA_COPY);
        if (result == 0) {
            result = cuMemcpyDtoHAsync(stagingOut.host(), buffer.pointer(), bytes, stream());
        }
        CudaCalls.check(result, "cuMemcpyDtoHAsync");
        copies++;
        synchronize(stream());
        stagingOut.get(host, offset, count);
    }

    void synchronize(CUstream stream) {
        CudaCalls.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
        synchronizations++;
    }

    /** Frees every device buffer, the staging memory and the stream; the context must be current. */
    void free() {
        for (DeviceBuffer buffer : buffers) {
            buffer.close();
        }
        stagingIn.close();
        stagingIn2.close();
        stagingOut.close();
        if (stream != null) {
            CUstream destroyed = stream;
            stream = null;
            CudaCalls.check(cuStreamDestroy(destroyed), "cuStreamDestroy");
        }
    }
}

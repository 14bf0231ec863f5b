package io.github.batchnorm4j.internal.cuda;

import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COUNTERS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COUNT_BATCHES;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.github.batchnorm4j.internal.FaultInjection;
import io.github.batchnorm4j.internal.LayerState;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUstream;

/**
 * A CUDA layer's state where the kernels keep it: gamma, beta, the running statistics with their
 * 1/sqrt(var + eps), the saved statistics of the latest forward (Batch Renormalization's r and d
 * included), the gradients, the counters
 * (num_batches_tracked, training forwards, failures: cuda/layer_record.cuh) and the failure
 * record. The device copy is the layer's state; {@link LayerState} is its host mirror, filled by
 * {@link #pull} and written back by {@link #push}, each of which synchronizes the context: calls
 * never copy state, accessors always do.
 */
final class CudaLayerState implements AutoCloseable {
    final DeviceBuffer gamma = new DeviceBuffer();
    final DeviceBuffer beta = new DeviceBuffer();
    final DeviceBuffer runningMean = new DeviceBuffer();
    final DeviceBuffer runningVar = new DeviceBuffer();
    final DeviceBuffer runningInvStd = new DeviceBuffer();
    final DeviceBuffer savedMean = new DeviceBuffer();
    final DeviceBuffer savedInvStd = new DeviceBuffer();
    final DeviceBuffer gammaGrad = new DeviceBuffer();
    final DeviceBuffer betaGrad = new DeviceBuffer();
    final DeviceBuffer counters = new DeviceBuffer();
    /** Batch Renormalization's r (C floats) then d (C floats) of the latest training forward. */
    final DeviceBuffer savedRenorm = new DeviceBuffer();
    final FailureRecord failures;
    private final DeviceBuffer[] buffers = {gamma, beta, runningMean, runningVar, runningInvStd, savedMean,
        savedInvStd, gammaGrad, betaGrad, counters, savedRenorm};
    private final int channels;
    /**
     * The layer's own non-blocking stream, which every copy of the state goes on: never the legacy
     * stream, whose synchronous copies a kernel on a non-blocking or per-thread stream is not
     * ordered after.
     */
    private final CUstream stream;
    private final long[] countersHost = new long[COUNTERS]; // cuda/layer_record.cuh

    /**
     * Whether the latest forward's statistics are the running ones, read in place (an inference
     * forward), rather than savedMean/savedInvStd. A host write of the running statistics first
     * copies them into the saved buffers, so backward still sees the forward's values.
     */
    boolean savedAreRunning;

    /**
     * Allocates the device state and uploads {@code state}; the context must be current. A
     * failure frees what was allocated: nothing else holds it yet.
     */
    CudaLayerState(LayerState state, CUstream stream) {
        channels = state.config.channels();
        this.stream = stream;
        long floats = (long) channels * Sizeof.FLOAT;
        FailureRecord record = null;
        try {
            for (DeviceBuffer buffer : buffers) {
                buffer.atLeast(buffer == savedMean ? (long) channels * Sizeof.DOUBLE
                        : buffer == counters ? countersHost.length * Sizeof.LONG
                        : buffer == savedRenorm ? 2 * floats : floats);
            }
            record = new FailureRecord();
            failures = record;
            push(state);
        } catch (RuntimeException | Error e) {
            freeBuffers();
            if (record != null) {
                record.close();
            }
            throw e;
        }
    }

    /**
     * Waits for the device (every stream: device calls run on their callers' streams), then copies
     * its state into the host mirror on the layer's stream and waits for the copies. Throws a
     * failure the device reported and the host has not yet seen (the mirror is then filled all
     * the same).
     */
    void pull(LayerState state) {
        CudaCalls.check(cuCtxSynchronize(), "cuCtxSynchronize");
        CudaCalls.check(FaultInjection.cudaResult(FaultInjection.Point.CUDA_STATE_COPY), "cuMemcpyDtoHAsync", "state");
        down(Pointer.to(state.gamma), gamma, channels * Sizeof.FLOAT);
        down(Pointer.to(state.beta), beta, channels * Sizeof.FLOAT);
        down(Pointer.to(state.runningMean), runningMean, channels * Sizeof.FLOAT);
        down(Pointer.to(state.runningVar), runningVar, channels * Sizeof.FLOAT);
        down(Pointer.to(state.gammaGradient), gammaGrad, channels * Sizeof.FLOAT);
        down(Pointer.to(state.betaGradient), betaGrad, channels * Sizeof.FLOAT);
        if (savedAreRunning) {
            down(Pointer.to(state.savedInvStd), runningInvStd, channels * Sizeof.FLOAT);
        } else {
            down(Pointer.to(state.savedMean), savedMean, channels * Sizeof.DOUBLE);
            down(Pointer.to(state.savedInvStd), savedInvStd, channels * Sizeof.FLOAT);
        }
        if (state.savedRenormR != null) {
            down(Pointer.to(state.savedRenormR), savedRenorm, channels * Sizeof.FLOAT);
            CudaCalls.check(cuMemcpyDtoHAsync(Pointer.to(state.savedRenormD),
                    savedRenorm.pointer().withByteOffset((long) channels * Sizeof.FLOAT), (long) channels * Sizeof.FLOAT,
                    stream), "cuMemcpyDtoHAsync");
        }
        down(Pointer.to(countersHost), counters, countersHost.length * Sizeof.LONG);
        CudaCalls.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
        if (savedAreRunning) {
            for (int c = 0; c < channels; c++) {
                state.savedMean[c] = state.runningMean[c];
            }
        }
        state.numBatchesTracked = countersHost[COUNT_BATCHES];
        state.parametersChanged();
    }

    /**
     * Uploads the host mirror after a host write (a setter, a load) on the layer's stream, and
     * waits for the copies to land: later work on any stream then sees them. The running
     * 1/sqrt(var + eps) comes from {@link LayerState#runningInvStd()}, the one definition both
     * backends use.
     */
    void push(LayerState state) {
        CudaCalls.check(cuCtxSynchronize(), "cuCtxSynchronize");
        CudaCalls.check(FaultInjection.cudaResult(FaultInjection.Point.CUDA_STATE_COPY), "cuMemcpyHtoDAsync", "state");
        up(gamma, Pointer.to(state.gamma), channels * Sizeof.FLOAT);
        up(beta, Pointer.to(state.beta), channels * Sizeof.FLOAT);
        up(runningMean, Pointer.to(state.runningMean), channels * Sizeof.FLOAT);
        up(runningVar, Pointer.to(state.runningVar), channels * Sizeof.FLOAT);
        up(runningInvStd, Pointer.to(state.runningInvStd()), channels * Sizeof.FLOAT);
        up(gammaGrad, Pointer.to(state.gammaGradient), channels * Sizeof.FLOAT);
        up(betaGrad, Pointer.to(state.betaGradient), channels * Sizeof.FLOAT);
        up(savedMean, Pointer.to(state.savedMean), channels * Sizeof.DOUBLE);
        up(savedInvStd, Pointer.to(state.savedInvStd), channels * Sizeof.FLOAT);
        if (state.savedRenormR != null) {
            up(savedRenorm, Pointer.to(state.savedRenormR), channels * Sizeof.FLOAT);
            CudaCalls.check(cuMemcpyHtoDAsync(savedRenorm.pointer().withByteOffset((long) channels * Sizeof.FLOAT),
                    Pointer.to(state.savedRenormD), (long) channels * Sizeof.FLOAT, stream), "cuMemcpyHtoDAsync");
        }
        savedAreRunning = false; // the saved buffers now hold the mirror's saved statistics, whatever their source
        countersHost[COUNT_BATCHES] = state.numBatchesTracked;
        up(counters, Pointer.to(countersHost), countersHost.length * Sizeof.LONG);
        CudaCalls.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    private void down(Pointer host, DeviceBuffer buffer, long bytes) {
        CudaCalls.check(cuMemcpyDtoHAsync(host, buffer.pointer(), bytes, stream), "cuMemcpyDtoHAsync");
    }

    private void up(DeviceBuffer buffer, Pointer host, long bytes) {
        CudaCalls.check(cuMemcpyHtoDAsync(buffer.pointer(), host, bytes, stream), "cuMemcpyHtoDAsync");
    }

    /** Frees the device state; the context must be current. */
    @Override
    public void close() {
        freeBuffers();
        failures.close();
    }

    private void freeBuffers() {
        for (DeviceBuffer buffer : buffers) {
            buffer.close();
        }
    }
}

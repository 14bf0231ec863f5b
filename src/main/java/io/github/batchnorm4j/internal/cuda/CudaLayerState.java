package io.github.batchnorm4j.internal.cuda;

import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COUNTERS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COUNT_BATCHES;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import io.github.batchnorm4j.internal.FaultInjection;
import io.github.batchnorm4j.internal.LayerState;
import jcuda.Pointer;
import jcuda.Sizeof;

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
    CudaLayerState(LayerState state) {
        channels = state.config.channels();
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
     * Waits for the device, then copies its state into the host mirror. Throws a failure the
     * device reported and the host has not yet seen (the mirror is then filled all the same).
     */
    void pull(LayerState state) {
        CudaCalls.check(cuCtxSynchronize(), "cuCtxSynchronize");
        CudaCalls.check(FaultInjection.cudaResult(FaultInjection.Point.CUDA_STATE_COPY), "cuMemcpyDtoH", "state");
        down(state.gamma, gamma);
        down(state.beta, beta);
        down(state.runningMean, runningMean);
        down(state.runningVar, runningVar);
        down(state.gammaGradient, gammaGrad);
        down(state.betaGradient, betaGrad);
        if (savedAreRunning) {
            for (int c = 0; c < channels; c++) {
                state.savedMean[c] = state.runningMean[c];
            }
            down(state.savedInvStd, runningInvStd);
        } else {
            CudaCalls.check(cuMemcpyDtoH(Pointer.to(state.savedMean), savedMean.pointer(),
                    (long) channels * Sizeof.DOUBLE), "cuMemcpyDtoH", "saved mean");
            down(state.savedInvStd, savedInvStd);
        }
        if (state.savedRenormR != null) {
            CudaCalls.check(cuMemcpyDtoH(Pointer.to(state.savedRenormR), savedRenorm.pointer(),
                    (long) channels * Sizeof.FLOAT), "cuMemcpyDtoH", "saved r");
            CudaCalls.check(cuMemcpyDtoH(Pointer.to(state.savedRenormD),
                    savedRenorm.pointer().withByteOffset((long) channels * Sizeof.FLOAT),
                    (long) channels * Sizeof.FLOAT), "cuMemcpyDtoH", "saved d");
        }
        CudaCalls.check(cuMemcpyDtoH(Pointer.to(countersHost), counters.pointer(), countersHost.length * Sizeof.LONG),
                "cuMemcpyDtoH", "counters");
        state.numBatchesTracked = countersHost[COUNT_BATCHES];
        state.parametersChanged();
    }

    /**
     * Uploads the host mirror after a host write (a setter, a load). The running 1/sqrt(var + eps)
     * comes from {@link LayerState#runningInvStd()}, the one definition both backends use.
     */
    void push(LayerState state) {
        CudaCalls.check(cuCtxSynchronize(), "cuCtxSynchronize");
        CudaCalls.check(FaultInjection.cudaResult(FaultInjection.Point.CUDA_STATE_COPY), "cuMemcpyHtoD", "state");
        up(gamma, state.gamma);
        up(beta, state.beta);
        up(runningMean, state.runningMean);
        up(runningVar, state.runningVar);
        up(runningInvStd, state.runningInvStd());
        up(gammaGrad, state.gammaGradient);
        up(betaGrad, state.betaGradient);
        CudaCalls.check(cuMemcpyHtoD(savedMean.pointer(), Pointer.to(state.savedMean), (long) channels * Sizeof.DOUBLE),
                "cuMemcpyHtoD", "saved mean");
        up(savedInvStd, state.savedInvStd);
        if (state.savedRenormR != null) {
            CudaCalls.check(cuMemcpyHtoD(savedRenorm.pointer(), Pointer.to(state.savedRenormR),
                    (long) channels * Sizeof.FLOAT), "cuMemcpyHtoD", "saved r");
            CudaCalls.check(cuMemcpyHtoD(savedRenorm.pointer().withByteOffset((long) channels * Sizeof.FLOAT),
                    Pointer.to(state.savedRenormD), (long) channels * Sizeof.FLOAT), "cuMemcpyHtoD", "saved d");
        }
        savedAreRunning = false; // the saved buffers now hold the mirror's saved statistics, whatever their source
        countersHost[COUNT_BATCHES] = state.numBatchesTracked;
        CudaCalls.check(cuMemcpyHtoD(counters.pointer(), Pointer.to(countersHost), countersHost.length * Sizeof.LONG),
                "cuMemcpyHtoD", "counters");
    }

    private void down(float[] host, DeviceBuffer buffer) {
        CudaCalls.check(cuMemcpyDtoH(Pointer.to(host), buffer.pointer(), (long) channels * Sizeof.FLOAT),
                "cuMemcpyDtoH");
    }

    private void up(DeviceBuffer buffer, float[] host) {
        CudaCalls.check(cuMemcpyHtoD(buffer.pointer(), Pointer.to(host), (long) channels * Sizeof.FLOAT),
                "cuMemcpyHtoD");
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

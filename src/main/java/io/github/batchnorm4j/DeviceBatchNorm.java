package io.github.batchnorm4j;

import io.github.batchnorm4j.internal.DeviceEntryPoints.StateMember;
import io.github.batchnorm4j.internal.LayerCore;
import io.github.batchnorm4j.internal.LayerCore.Operation;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * A {@link BatchNorm} layer's entry points for device memory the caller owns: tensors stay where
 * they are, and all work goes on the caller's stream (null: the calling thread's default stream,
 * {@code CU_STREAM_PER_THREAD}; never the legacy default stream). Obtained from
 * {@link BatchNorm#device()}; shares the layer's state, settings and validation.
 *
 * <p>The layer's state lives on the device, so in steady state a call makes no synchronization,
 * no host-device copy, no device allocation and no Java allocation: it enqueues its kernels
 * (training forward two, inference one, backward two) and returns. Calls of different layers on
 * different streams run concurrently, and a call can be captured in a CUDA graph and replayed
 * (run it once with the shape before capturing, so its buffers exist; the running-average weight
 * comes from the device's own count, so each replay weighs its batch rightly). The layer's host
 * accessors (getters, setters, save, load) synchronize the context and copy then.
 *
 * <p>Bad batches are reported asynchronously, as CUDA reports its own asynchronous errors: a
 * training forward whose batch statistics are not finite commits nothing (running statistics,
 * saved statistics, count), and a backward whose gradients are not finite keeps the old ones;
 * the failure is written to mapped host memory, and the layer's next call, or any accessor,
 * throws the message a host-array call would have thrown, naming the channel and the training
 * forward it happened in, before it does anything. On a busy GPU that may be a later call than
 * the next; with {@link BatchNormBuilder#synchronousCudaErrors} every device call waits and
 * checks at once (for debugging).
 *
 * <p>Each pointer is checked before any launch: it must lie in a live allocation of the current
 * CUDA context with room for the whole tensor, and an output may be its input (the same address)
 * but may not partly overlap it.
 *
 * <p>{@link #gamma()} and {@link #beta()} are the parameters' device memory, and
 * {@link #gammaGradient()} and {@link #betaGradient()} their gradients (written by each backward):
 * a pipeline's optimizer may update gamma and beta in place, on a stream ordered with this
 * layer's calls, and the layer's inference and backward read the updated values. The running
 * statistics are readable the same way but are written only by the layer (use the setters).
 */
public final class DeviceBatchNorm {
    private final LayerCore core;

    DeviceBatchNorm(LayerCore core) {
        this.core = core;
    }

    /** Training forward on device memory; see {@link BatchNorm#forwardTraining(Shape, float[], float[])}. */
    public void forwardTraining(Shape shape, CUdeviceptr x, CUdeviceptr y, CUstream stream) {
        core.runOnDevice(Operation.TRAINING, shape, x, null, y, stream);
    }

    /** Inference forward on device memory; see {@link BatchNorm#forwardInference(Shape, float[], float[])}. */
    public void forwardInference(Shape shape, CUdeviceptr x, CUdeviceptr y, CUstream stream) {
        core.runOnDevice(Operation.INFERENCE, shape, x, null, y, stream);
    }

    /** Backward on device memory; see {@link BatchNorm#backward(Shape, float[], float[], float[])}. */
    public void backward(Shape shape, CUdeviceptr x, CUdeviceptr dy, CUdeviceptr dx, CUstream stream) {
        core.runOnDevice(Operation.BACKWARD, shape, x, dy, dx, stream);
    }

    /**
     * The driver calls this layer's calls (host-array and device) have made so far; accessors'
     * copies are not included. The difference around one call is what that call costs the host.
     */
    public DriverCalls driverCalls() {
        long[] counts = core.driverCalls();
        return new DriverCalls(counts[0], counts[1], counts[2]);
    }

    /** Kernel launches, stream synchronizations and host-device copies, counted by the layer. */
    public record DriverCalls(long launches, long synchronizations, long copies) {
        public DriverCalls minus(DriverCalls before) {
            return new DriverCalls(launches - before.launches, synchronizations - before.synchronizations,
                    copies - before.copies);
        }

        @Override
        public String toString() {
            return launches + " launches, " + synchronizations + " syncs, " + copies + " copies";
        }
    }

    /** Gamma on the device: C floats the caller's optimizer may update in place. */
    public CUdeviceptr gamma() {
        return core.deviceMember(StateMember.GAMMA);
    }

    /** Beta on the device: C floats the caller's optimizer may update in place. */
    public CUdeviceptr beta() {
        return core.deviceMember(StateMember.BETA);
    }

    /** d loss / d gamma of the latest backward on the device: C floats, to read. */
    public CUdeviceptr gammaGradient() {
        return core.deviceMember(StateMember.GAMMA_GRADIENT);
    }

    /** d loss / d beta of the latest backward on the device: C floats, to read. */
    public CUdeviceptr betaGradient() {
        return core.deviceMember(StateMember.BETA_GRADIENT);
    }

    /** The running mean on the device: C floats, to read only. */
    public CUdeviceptr runningMean() {
        return core.deviceMember(StateMember.RUNNING_MEAN);
    }

    /** The running variance on the device: C floats, to read only. */
    public CUdeviceptr runningVar() {
        return core.deviceMember(StateMember.RUNNING_VAR);
    }
}

package io.github.batchnorm4j;

import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.DeviceAddress;
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
    private final BatchNorm layer;
    private final CudaBackend backend;

    DeviceBatchNorm(BatchNorm layer, CudaBackend backend) {
        this.layer = layer;
        this.backend = backend;
    }

    /** Training forward on device memory; see {@link BatchNorm#forwardTraining(Shape, float[], float[])}. */
    public void forwardTraining(Shape shape, CUdeviceptr x, CUdeviceptr y, CUstream stream) {
        layer.enter(shape, true);
        try {
            checkTensor("x", x, shape);
            checkTensor("y", y, shape);
            checkNoPartialOverlap("x", x, "y", y, shape);
            backend.forwardTraining(layer.state, shape, x, y, stream);
        } finally {
            layer.exit();
        }
    }

    /** Inference forward on device memory; see {@link BatchNorm#forwardInference(Shape, float[], float[])}. */
    public void forwardInference(Shape shape, CUdeviceptr x, CUdeviceptr y, CUstream stream) {
        layer.enter(shape, !layer.config().trackRunningStats());
        try {
            checkTensor("x", x, shape);
            checkTensor("y", y, shape);
            checkNoPartialOverlap("x", x, "y", y, shape);
            backend.forwardInference(layer.state, shape, x, y, stream);
        } finally {
            layer.exit();
        }
    }

    /** Backward on device memory; see {@link BatchNorm#backward(Shape, float[], float[], float[])}. */
    public void backward(Shape shape, CUdeviceptr x, CUdeviceptr dy, CUdeviceptr dx, CUstream stream) {
        layer.enter(shape, false);
        try {
            layer.state.checkBackwardShape(shape);
            checkTensor("x", x, shape);
            checkTensor("dy", dy, shape);
            checkTensor("dx", dx, shape);
            checkNoPartialOverlap("dy", dy, "dx", dx, shape);
            checkNoPartialOverlap("x", x, "dx", dx, shape);
            backend.backward(layer.state, shape, x, dy, dx, stream);
        } finally {
            layer.exit();
        }
    }

    /**
     * The driver calls this layer's calls (host-array and device) have made so far; accessors'
     * copies are not included. The difference around one call is what that call costs the host.
     */
    public DriverCalls driverCalls() {
        long[] counts = backend.driverCalls();
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
        return member("gamma");
    }

    /** Beta on the device: C floats the caller's optimizer may update in place. */
    public CUdeviceptr beta() {
        return member("beta");
    }

    /** d loss / d gamma of the latest backward on the device: C floats, to read. */
    public CUdeviceptr gammaGradient() {
        return member("gamma gradient");
    }

    /** d loss / d beta of the latest backward on the device: C floats, to read. */
    public CUdeviceptr betaGradient() {
        return member("beta gradient");
    }

    /** The running mean on the device: C floats, to read only. */
    public CUdeviceptr runningMean() {
        return member("running mean");
    }

    /** The running variance on the device: C floats, to read only. */
    public CUdeviceptr runningVar() {
        return member("running variance");
    }

    private CUdeviceptr member(String name) {
        layer.requireOpenForDevice();
        if (name.startsWith("gamma") || name.startsWith("beta")) {
            if (!layer.config().affine()) {
                throw new IllegalStateException("layer was built with affine(false): it has no gamma or beta");
            }
        } else if (!layer.config().trackRunningStats()) {
            throw new IllegalStateException("layer was built with trackRunningStats(false): it has no running statistics");
        }
        return backend.deviceMember(layer.state, name);
    }

    private void checkTensor(String name, CUdeviceptr pointer, Shape shape) {
        if (pointer == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        backend.checkDeviceRange(name, pointer, bytes(shape), shape);
    }

    private static void checkNoPartialOverlap(String aName, CUdeviceptr a, String bName, CUdeviceptr b, Shape shape) {
        long start = DeviceAddress.of(a);
        long other = DeviceAddress.of(b);
        long bytes = bytes(shape);
        if (start != other && start < other + bytes && other < start + bytes) {
            throw new IllegalArgumentException(aName + " and " + bName + " partly overlap (" + (other - start)
                    + " bytes apart, " + bytes + " each): use the same pointer for in-place, or separate memory");
        }
    }

    private static long bytes(Shape shape) {
        return shape.elementCount() * Float.BYTES;
    }
}

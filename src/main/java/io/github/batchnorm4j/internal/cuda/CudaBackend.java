package io.github.batchnorm4j.internal.cuda;

import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.DeviceEntryPoints;
import io.github.batchnorm4j.internal.LayerState;
import jcuda.CudaException;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * Batch norm on an NVIDIA GPU through JCuda, with the kernels of {@code cuda/} ({@link Kernel}'s
 * table): {@link CudaStatistics}, {@link CudaNormalize} and {@link CudaBackward} launch them on
 * the buffers of a {@link CudaWorkspace} and the layer's device state ({@link CudaLayerState}).
 *
 * <p>The layer's state lives on the device: calls neither upload nor download it, and the host's
 * {@link LayerState} is a mirror that accessors fill ({@link #pull}) and write back
 * ({@link #push}), synchronizing then. Two kinds of entry point share one implementation: host
 * arrays (staged through page-locked memory, copied asynchronously on the layer's own stream,
 * one synchronization per call, for the output) and caller-owned device pointers on the
 * caller's stream (no synchronization, no copy, no allocation in steady state; a call can be
 * captured in a CUDA graph). A bad batch changes nothing on the device and is reported through
 * the {@link FailureRecord}: by the host-array call itself, by a device call at the next call on
 * the layer or at any accessor (at once with synchronous errors on).
 *
 * <p>Steady state allocates nothing: device buffers only grow, kernel parameter lists are built
 * once ({@link KernelCall}). Launch geometry depends on the shape and the device's SM count
 * only, so results are deterministic on a given GPU: no reduction uses atomics (one atomic
 * counter only picks which block finishes).
 */
public final class CudaBackend implements BatchNormBackend, DeviceEntryPoints {
    private final CudaContext cuda;
    private final CudaWorkspace w = new CudaWorkspace();
    private final DeviceArguments pointers = new DeviceArguments();
    private final StreamHandOff handOff = new StreamHandOff();
    /** Created with the layer's first use, when its state is known. */
    private CudaLayerState s;
    private CudaNormalize normalize;
    private CudaStatistics statistics;
    private CudaBackward backward;
    private CudaSynchronizedStep synchronizedStep;
    private KernelCall[] kernels = {};

    // What the latest batch-statistics forward replaced, to put back if the device reports it failed.
    private boolean lastCallWasBatchForward;
    private Shape previousSavedShape;
    private boolean previousSavedFromBatch;
    private boolean previousSavedRenormalized;
    private boolean previousSavedAreRunning;
    private Shape latestBatchShape;

    public CudaBackend(CudaContext cuda) {
        this.cuda = cuda;
    }

    @Override
    public String name() {
        return "cuda";
    }

    /**
     * Kernel launches this backend has made. A training forward takes two, inference one (two
     * without running statistics), backward two.
     */
    public long kernelLaunches() {
        long total = 0;
        for (KernelCall kernel : kernels) {
            total += kernel.launches();
        }
        return total;
    }

    /**
     * The driver calls this backend's calls have made so far: {launches, synchronizations, copies}
     * (accessors' copies not included). A difference around one call is that call's cost.
     */
    @Override
    public long[] driverCalls() {
        return new long[] {kernelLaunches(), w.synchronizations, w.copies};
    }

    // ---- host arrays ----

    @Override
    public void forwardTraining(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostY, int yOffset) {
        try {
            begin(state);
            int count = (int) shape.elementCount();
            w.upload(w.x, w.stagingIn, hostX, xOffset, count);
            w.y.atLeast((long) count * Sizeof.FLOAT);
            w.aimAtOwnBuffers();
            training(state, shape, handOff.onto(w.stream()));
            w.download(hostY, yOffset, w.y, count);
            reportFailure(state);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public void forwardInference(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostY, int yOffset) {
        try {
            begin(state);
            int count = (int) shape.elementCount();
            w.upload(w.x, w.stagingIn, hostX, xOffset, count);
            w.y.atLeast((long) count * Sizeof.FLOAT);
            w.aimAtOwnBuffers();
            inference(state, shape, handOff.onto(w.stream()));
            w.download(hostY, yOffset, w.y, count);
            reportFailure(state);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public void backward(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostDy, int dyOffset,
            float[] hostDx, int dxOffset) {
        try {
            begin(state);
            int count = (int) shape.elementCount();
            w.upload(w.x, w.stagingIn, hostX, xOffset, count);
            w.upload(w.y, w.stagingIn2, hostDy, dyOffset, count); // y holds dy
            w.dx.atLeast((long) count * Sizeof.FLOAT);
            w.aimAtOwnBuffers();
            gradient(state, shape, handOff.onto(w.stream()));
            w.download(hostDx, dxOffset, w.dx, count);
            reportFailure(state);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    // ---- synchronized batch norm (host arrays) ----

    @Override
    public void forwardTrainingWithStatistics(LayerState state, Shape shape, float[] hostX, int xOffset,
            float[] hostY, int yOffset, double[] mean, double[] variance, long valuesPerChannel) {
        try {
            begin(state);
            synchronizedStep.forward(state, shape, hostX, xOffset, hostY, yOffset, mean, variance, valuesPerChannel);
            handOff.idle(); // the step pulled and pushed the state: the device is idle
            lastCallWasBatchForward = false;
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public void backwardWithSums(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostDy,
            int dyOffset, float[] hostDx, int dxOffset, double[] sumDy, double[] sumDyCentered, long valuesPerChannel) {
        try {
            begin(state);
            synchronizedStep.backward(state, shape, hostX, xOffset, hostDy, dyOffset, hostDx, dxOffset, sumDy,
                    sumDyCentered, valuesPerChannel);
            handOff.idle();
            lastCallWasBatchForward = false;
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    // ---- caller device memory ----

    /**
     * Training forward from the caller's device x into device y, on {@code stream} (null: the
     * calling thread's default stream, CU_STREAM_PER_THREAD, never the legacy stream).
     */
    @Override
    public void forwardTraining(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceY, CUstream stream) {
        checkForwardPointers(shape, deviceX, deviceY);
        try {
            begin(state);
            w.xIn.aimAt(deviceX);
            w.yOut.aimAt(deviceY);
            training(state, shape, handOff.onto(streamOf(stream)));
            finishDeviceCall(state, stream);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public void forwardInference(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceY, CUstream stream) {
        checkForwardPointers(shape, deviceX, deviceY);
        try {
            begin(state);
            w.xIn.aimAt(deviceX);
            w.yOut.aimAt(deviceY);
            inference(state, shape, handOff.onto(streamOf(stream)));
            finishDeviceCall(state, stream);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public void backward(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceDy, CUdeviceptr deviceDx,
            CUstream stream) {
        checkTensor("x", deviceX, shape);
        checkTensor("dy", deviceDy, shape);
        checkTensor("dx", deviceDx, shape);
        DeviceArguments.checkNoPartialOverlap("dy", deviceDy, "dx", deviceDx, shape);
        DeviceArguments.checkNoPartialOverlap("x", deviceX, "dx", deviceDx, shape);
        try {
            begin(state);
            w.xIn.aimAt(deviceX);
            w.dyIn.aimAt(deviceDy);
            w.dxOut.aimAt(deviceDx);
            gradient(state, shape, handOff.onto(streamOf(stream)));
            finishDeviceCall(state, stream);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public CUdeviceptr deviceMember(LayerState state, StateMember member) {
        try {
            cuda.makeCurrent();
            ready(state);
            return switch (member) {
                case GAMMA -> s.gamma.pointer();
                case BETA -> s.beta.pointer();
                case GAMMA_GRADIENT -> s.gammaGrad.pointer();
                case BETA_GRADIENT -> s.betaGrad.pointer();
                case RUNNING_MEAN -> s.runningMean.pointer();
                case RUNNING_VAR -> s.runningVar.pointer();
            };
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public DeviceEntryPoints device() {
        return this;
    }

    private void checkForwardPointers(Shape shape, CUdeviceptr x, CUdeviceptr y) {
        checkTensor("x", x, shape);
        checkTensor("y", y, shape);
        DeviceArguments.checkNoPartialOverlap("x", x, "y", y, shape);
    }

    /** A caller's tensor: not null, and inside a live allocation with room for the whole shape. */
    private void checkTensor(String name, CUdeviceptr pointer, Shape shape) {
        if (pointer == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        try {
            cuda.makeCurrent();
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
        pointers.checkRange(name, pointer, DeviceArguments.bytes(shape), shape);
    }

    // ---- the host mirror ----

    @Override
    public void pull(LayerState state) {
        try {
            cuda.makeCurrent();
            ready(state);
            s.pull(state);
            handOff.idle(); // the pull synchronized the context
            reportFailure(state);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public void push(LayerState state) {
        try {
            cuda.makeCurrent();
            if (s == null) {
                ready(state); // uploads the state
            } else {
                s.push(state);
            }
            handOff.idle(); // the push synchronized the context and waited for its copies
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public void close() {
        try {
            cuda.makeCurrent(); // cuMemFree needs the context current on the closing thread
            handOff.close();
            w.free();
            if (s != null) {
                s.close();
            }
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    // ---- the three operations, on the workspace's xIn/yOut/dyIn/dxOut ----

    private void begin(LayerState state) {
        cuda.makeCurrent();
        ready(state);
        reportFailure(state); // a failure of an earlier device call, before this call changes anything
    }

    private void ready(LayerState state) {
        if (s == null) {
            CudaLayerState created = new CudaLayerState(state, w.stream());
            normalize = new CudaNormalize(cuda, w, created);
            statistics = new CudaStatistics(cuda, w, created, normalize);
            backward = new CudaBackward(cuda, w, created);
            synchronizedStep = new CudaSynchronizedStep(w, created, normalize, backward);
            KernelCall[] a = statistics.kernels(), b = normalize.kernels(), c = backward.kernels();
            KernelCall[] all = new KernelCall[a.length + b.length + c.length];
            System.arraycopy(a, 0, all, 0, a.length);
            System.arraycopy(b, 0, all, a.length, b.length);
            System.arraycopy(c, 0, all, a.length + b.length, c.length);
            kernels = all;
            s = created;
        }
    }

    private static CUstream streamOf(CUstream stream) {
        return stream == null ? JCudaDriver.CU_STREAM_PER_THREAD : stream;
    }

    private void finishDeviceCall(LayerState state, CUstream stream) {
        if (state.config.synchronousCudaErrors()) {
            w.synchronize(streamOf(stream));
            reportFailure(state);
        }
    }

    private void training(LayerState state, Shape shape, CUstream stream) {
        batchForward(state, shape, state.config.trackRunningStats(), stream);
    }

    private void inference(LayerState state, Shape shape, CUstream stream) {
        if (!state.config.trackRunningStats()) {
            batchForward(state, shape, false, stream);
            return;
        }
        normalize.withRunningStatistics(shape, stream);
        state.savedShape = shape;
        state.savedFromBatch = false;
        state.savedRenormalized = false;
        s.savedAreRunning = true;
        lastCallWasBatchForward = false;
    }

    private void batchForward(LayerState state, Shape shape, boolean update, CUstream stream) {
        boolean renorm = update && state.config.batchRenormalization();
        statistics.batchStatisticsAndNormalize(state, shape, update, renorm, stream);
        previousSavedShape = state.savedShape;
        previousSavedFromBatch = state.savedFromBatch;
        previousSavedRenormalized = state.savedRenormalized;
        previousSavedAreRunning = s.savedAreRunning;
        state.savedShape = shape;
        state.savedFromBatch = true;
        state.savedRenormalized = renorm;
        s.savedAreRunning = false;
        lastCallWasBatchForward = true;
        latestBatchShape = shape;
    }

    private void gradient(LayerState state, Shape shape, CUstream stream) {
        backward.run(shape, state.savedFromBatch, s.savedAreRunning, state.config.affine(), state.savedRenormalized,
                stream);
        lastCallWasBatchForward = false;
    }

    /**
     * Throws the failure the device reported since the last check, if any. A failed forward
     * committed nothing on the device; when it was this layer's latest call, the host's record of
     * the latest forward is put back too, so the state is as it was before it.
     */
    private void reportFailure(LayerState state) {
        FailureRecord.Failure failure = s.failures.takeNew();
        if (failure == null) {
            return;
        }
        if (failure.ofForward() && lastCallWasBatchForward) {
            state.savedShape = previousSavedShape;
            state.savedFromBatch = previousSavedFromBatch;
            state.savedRenormalized = previousSavedRenormalized;
            s.savedAreRunning = previousSavedAreRunning;
            lastCallWasBatchForward = false;
        }
        throw new IllegalArgumentException(failure.message(String.valueOf(latestBatchShape)));
    }
}

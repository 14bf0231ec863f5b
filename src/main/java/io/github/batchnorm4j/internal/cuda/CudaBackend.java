package io.github.batchnorm4j.internal.cuda;

import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COEFFICIENTS_PER_CHANNEL;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COEFFICIENT_K;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COEFFICIENT_K0;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COEFFICIENT_KC;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAMS_PER_CHANNEL;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAM_MEAN_HI;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAM_MEAN_LO;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAM_SCALE;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAM_SHIFT;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import static jcuda.driver.JCudaDriver.cuMemGetAddressRange;

import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.LayerState;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
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
public final class CudaBackend implements BatchNormBackend {
    private final CudaContext cuda;
    private final CudaWorkspace w = new CudaWorkspace();
    /** Created with the layer's first use, when its state is known. */
    private CudaLayerState s;
    private CudaNormalize normalize;
    private CudaStatistics statistics;
    private CudaBackward backward;
    private KernelCall[] kernels = {};

    // What the latest batch-statistics forward replaced, to put back if the device reports it failed.
    private boolean lastCallWasBatchForward;
    private Shape previousSavedShape;
    private boolean previousSavedFromBatch;
    private boolean previousSavedRenormalized;
    private boolean previousSavedAreRunning;
    private Shape latestBatchShape;

    // For checking caller pointers.
    private final CUdeviceptr allocationBase = new CUdeviceptr();
    private final long[] allocationSize = new long[1];

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
            training(state, shape, w.stream());
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
            inference(state, shape, w.stream());
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
            gradient(state, shape, w.stream());
            w.download(hostDx, dxOffset, w.dx, count);
            reportFailure(state);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    // ---- synchronized batch norm (host arrays) ----

    /**
     * A training forward with outside statistics: the state comes to the host, the normalization
     * parameters are made there (as the statistics kernels' finishing step makes them:
     * normalize_params.cuh) and uploaded, the normalize kernel runs without its commit, and the
     * host commits and uploads the state. Synchronized steps already wait for the network, so the
     * copies of C-sized state cost little beside them.
     */
    @Override
    public void forwardTrainingWithStatistics(LayerState state, Shape shape, float[] hostX, int xOffset,
            float[] hostY, int yOffset, double[] mean, double[] variance, long valuesPerChannel) {
        try {
            begin(state);
            s.pull(state);
            int channels = shape.channels();
            boolean renorm = state.config.batchRenormalization();
            float[] invStd = new float[channels], params = new float[PARAMS_PER_CHANNEL * channels];
            float[] r = renorm ? new float[channels] : null, d = renorm ? new float[channels] : null;
            state.batchCorrections(mean, variance, invStd, r, d);
            for (int c = 0; c < channels; c++) {
                float gamma = state.gamma[c], beta = state.beta[c];
                if (renorm) {
                    beta = LayerState.renormBeta(gamma, beta, d[c]);
                    gamma = LayerState.renormGamma(gamma, r[c]);
                }
                putParams(params, c, channels, shape.isChannelsLast(), mean[c], gamma * invStd[c], beta);
            }
            int count = (int) shape.elementCount();
            w.upload(w.x, w.stagingIn, hostX, xOffset, count);
            w.y.atLeast((long) count * Sizeof.FLOAT);
            w.aimAtOwnBuffers();
            long paramBytes = (long) params.length * Sizeof.FLOAT;
            w.params.atLeast(paramBytes);
            CudaCalls.check(cuMemcpyHtoD(w.params.pointer(), Pointer.to(params), paramBytes), "cuMemcpyHtoD", "params");
            normalize.withParams(shape, w.stream());
            w.download(hostY, yOffset, w.y, count);
            state.commitBatch(shape, mean, variance, invStd, state.config.trackRunningStats(), r, d,
                    valuesPerChannel);
            s.push(state);
            lastCallWasBatchForward = false;
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    /**
     * The backward of {@link #forwardTrainingWithStatistics} with outside gradient sums: the dx
     * coefficients are made on the host (as finalize_backward.cuh makes them), the apply kernel
     * runs without its commit, and the host commits the gradients and uploads them.
     */
    @Override
    public void backwardWithSums(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostDy,
            int dyOffset, float[] hostDx, int dxOffset, double[] sumDy, double[] sumDyCentered, long valuesPerChannel) {
        try {
            begin(state);
            s.pull(state);
            int channels = shape.channels();
            float[] params = new float[PARAMS_PER_CHANNEL * channels];
            float[] coefficients = new float[COEFFICIENTS_PER_CHANNEL * channels];
            for (int c = 0; c < channels; c++) {
                float invStd = state.savedInvStd[c];
                double dGamma = sumDyCentered[c] * invStd;
                double k = (double) state.backwardGamma(c) * invStd;
                int at = COEFFICIENTS_PER_CHANNEL * c;
                coefficients[at + COEFFICIENT_K] = (float) k;
                coefficients[at + COEFFICIENT_KC] = (float) (k * invStd * dGamma / valuesPerChannel);
                coefficients[at + COEFFICIENT_K0] = (float) (k * sumDy[c] / valuesPerChannel);
                putParams(params, c, channels, shape.isChannelsLast(), state.savedMean[c], 0f, 0f);
                state.nextGammaGradient[c] = (float) state.gammaGradient(c, dGamma, sumDy[c]);
                state.nextBetaGradient[c] = (float) sumDy[c];
            }
            int count = (int) shape.elementCount();
            w.upload(w.x, w.stagingIn, hostX, xOffset, count);
            w.upload(w.y, w.stagingIn2, hostDy, dyOffset, count); // y holds dy
            w.dx.atLeast((long) count * Sizeof.FLOAT);
            w.aimAtOwnBuffers();
            long paramBytes = (long) params.length * Sizeof.FLOAT;
            long coefficientBytes = (long) coefficients.length * Sizeof.FLOAT;
            w.params.atLeast(paramBytes);
            w.coefficients.atLeast(coefficientBytes);
            CudaCalls.check(cuMemcpyHtoD(w.params.pointer(), Pointer.to(params), paramBytes), "cuMemcpyHtoD", "params");
            CudaCalls.check(cuMemcpyHtoD(w.coefficients.pointer(), Pointer.to(coefficients), coefficientBytes),
                    "cuMemcpyHtoD", "coefficients");
            backward.applyOnly(shape, w.stream());
            w.download(hostDx, dxOffset, w.dx, count);
            if (state.config.affine()) {
                state.commitGradients();
            }
            s.push(state);
            lastCallWasBatchForward = false;
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    /** Channel c's normalization parameters in the kernels' layout (normalize_params.cuh). */
    private static void putParams(float[] params, int c, int channels, boolean planar, double mean, float scale,
            float shift) {
        float hi = (float) mean;
        float lo = (float) (mean - hi);
        // Planar: a plane of C floats per parameter; otherwise a float4 per channel.
        int at = planar ? c : PARAMS_PER_CHANNEL * c;
        int step = planar ? channels : 1;
        params[at + PARAM_MEAN_HI * step] = hi;
        params[at + PARAM_MEAN_LO * step] = lo;
        params[at + PARAM_SCALE * step] = scale;
        params[at + PARAM_SHIFT * step] = shift;
    }

    // ---- caller device memory ----

    /**
     * Training forward from the caller's device x into device y, on {@code stream} (null: the
     * calling thread's default stream, CU_STREAM_PER_THREAD, never the legacy stream).
     */
    public void forwardTraining(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceY, CUstream stream) {
        try {
            begin(state);
            w.xIn.aimAt(deviceX);
            w.yOut.aimAt(deviceY);
            training(state, shape, streamOf(stream));
            finishDeviceCall(state, stream);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    public void forwardInference(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceY, CUstream stream) {
        try {
            begin(state);
            w.xIn.aimAt(deviceX);
            w.yOut.aimAt(deviceY);
            inference(state, shape, streamOf(stream));
            finishDeviceCall(state, stream);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    public void backward(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceDy, CUdeviceptr deviceDx,
            CUstream stream) {
        try {
            begin(state);
            w.xIn.aimAt(deviceX);
            w.dyIn.aimAt(deviceDy);
            w.dxOut.aimAt(deviceDx);
            gradient(state, shape, streamOf(stream));
            finishDeviceCall(state, stream);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    /** The device memory of one member of the layer's state (C floats), valid until the layer closes. */
    public CUdeviceptr deviceMember(LayerState state, String member) {
        try {
            cuda.makeCurrent();
            ready(state);
            return switch (member) {
                case "gamma" -> s.gamma.pointer();
                case "beta" -> s.beta.pointer();
                case "gamma gradient" -> s.gammaGrad.pointer();
                case "beta gradient" -> s.betaGrad.pointer();
                case "running mean" -> s.runningMean.pointer();
                case "running variance" -> s.runningVar.pointer();
                default -> throw new IllegalArgumentException("no device member " + member);
            };
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

    // ---- the host mirror ----

    @Override
    public void pull(LayerState state) {
        try {
            cuda.makeCurrent();
            ready(state);
            s.pull(state);
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
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public void close() {
        try {
            cuda.makeCurrent(); // cuMemFree needs the context current on the closing thread
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
            CudaLayerState created = new CudaLayerState(state);
            normalize = new CudaNormalize(cuda, w, created);
            statistics = new CudaStatistics(cuda, w, created, normalize);
            backward = new CudaBackward(cuda, w, created);
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

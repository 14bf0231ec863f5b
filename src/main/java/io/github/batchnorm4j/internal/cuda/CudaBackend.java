package io.github.batchnorm4j.internal.cuda;

import static io.github.batchnorm4j.internal.cuda.KernelCall.Scalar.DOUBLE;
import static io.github.batchnorm4j.internal.cuda.KernelCall.Scalar.INT;
import static io.github.batchnorm4j.internal.cuda.KernelCall.Scalar.LONG;
import static jcuda.driver.JCudaDriver.cuMemGetAddressRange;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.VarianceEstimator;
import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.FaultInjection;
import io.github.batchnorm4j.internal.LayerState;
import java.util.Arrays;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/**
 * Batch norm on an NVIDIA GPU through JCuda, with the kernels of {@code cuda/} (see
 * {@link CudaModules}). A training forward is two launches: partial Welford statistics per block,
 * finished by the grid's last block (Chan merge in fp64, EWA update, all-or-nothing on non-finite
 * statistics); then normalize.
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
    private static final int THREADS = LaunchGeometry.THREADS;

    private final CudaContext cuda;
    private final DeviceBuffer x = new DeviceBuffer();
    private final DeviceBuffer y = new DeviceBuffer();
    private final DeviceBuffer dx = new DeviceBuffer();
    private final DeviceBuffer gamma = new DeviceBuffer();
    private final DeviceBuffer beta = new DeviceBuffer();
    private final DeviceBuffer runningMean = new DeviceBuffer();
    private final DeviceBuffer runningVar = new DeviceBuffer();
    private final DeviceBuffer savedMean = new DeviceBuffer();
    private final DeviceBuffer savedInvStd = new DeviceBuffer();
    private final DeviceBuffer params = new DeviceBuffer();
    private final DeviceBuffer coefficients = new DeviceBuffer();
    private final DeviceBuffer gammaGrad = new DeviceBuffer();
    private final DeviceBuffer betaGrad = new DeviceBuffer();
    private final DeviceBuffer partialA = new DeviceBuffer();
    private final DeviceBuffer partialB = new DeviceBuffer();
    private final DeviceBuffer partialC = new DeviceBuffer();
    private final DeviceBuffer scratch = new DeviceBuffer();
    private final DeviceBuffer status = new DeviceBuffer();
    /** The statistics kernels' count of finished blocks: zero between launches (see finalize_statistics.cuh). */
    private final DeviceBuffer blocksDone = new DeviceBuffer();
    private final DeviceBuffer[] buffers = {x, y, dx, gamma, beta, runningMean, runningVar, savedMean, savedInvStd,
        params, coefficients, gammaGrad, betaGrad, partialA, partialB, partialC, scratch, status, blocksDone};

    // The tensors of the current call: the layer's own buffers or the caller's device memory.
    private final DeviceArgument xIn = new DeviceArgument(x.pointer());
    private final DeviceArgument yOut = new DeviceArgument(y.pointer());
    private final DeviceArgument dyIn = new DeviceArgument(y.pointer());
    private final DeviceArgument dxOut = new DeviceArgument(dx.pointer());

    private final KernelCall statsNchw;
    private final KernelCall statsChannelsLast;
    private final KernelCall runningParams;
    private final KernelCall normalizeNchw;
    private final KernelCall normalizeChannelsLast;
    private final KernelCall gradSumsNchw;
    private final KernelCall gradSumsChannelsLast;
    private final KernelCall gradFinalize;
    private final KernelCall gradApplyNchw;
    private final KernelCall gradApplyChannelsLast;
    private final KernelCall[] kernels;

    // Host side of the copies (cached pointers, so steady state allocates nothing).
    private final HostArrayPointer hostX = new HostArrayPointer();
    private final HostArrayPointer hostY = new HostArrayPointer();
    private final HostArrayPointer hostDy = new HostArrayPointer();
    private final HostArrayPointer hostDx = new HostArrayPointer();
    private final HostArrayPointer hostGamma = new HostArrayPointer();
    private final HostArrayPointer hostBeta = new HostArrayPointer();
    private final HostArrayPointer hostRunningMean = new HostArrayPointer();
    private final HostArrayPointer hostRunningVar = new HostArrayPointer();
    private final HostArrayPointer hostSavedMean = new HostArrayPointer();
    private final HostArrayPointer hostSavedInvStd = new HostArrayPointer();
    private final HostArrayPointer hostGammaGrad = new HostArrayPointer();
    private final HostArrayPointer hostBetaGrad = new HostArrayPointer();
    private final int[] statusHost = new int[1];
    private final Pointer statusHostPointer = Pointer.to(statusHost);
    private double[] meanHost = new double[0];
    private float[] invStdHost = new float[0];
    private float[] runningMeanHost = new float[0];
    private float[] runningVarHost = new float[0];
    private float[] paramsHost = new float[0];
    private final HostArrayPointer meanHostPointer = new HostArrayPointer();
    private final HostArrayPointer invStdHostPointer = new HostArrayPointer();
    private final HostArrayPointer runningMeanHostPointer = new HostArrayPointer();
    private final HostArrayPointer runningVarHostPointer = new HostArrayPointer();
    private final HostArrayPointer paramsHostPointer = new HostArrayPointer();

    // For checking caller pointers.
    private final CUdeviceptr allocationBase = new CUdeviceptr();
    private final long[] allocationSize = new long[1];

    // Geometry of the current reduction.
    private long blocksPerChannel;
    private long perBlock;
    private int gridY;

    public CudaBackend(CudaContext cuda) {
        this.cuda = cuda;
        Pointer xArg = xIn.argument(), yArg = yOut.argument();
        // The statistics kernels' parameters after their partials are those of their finishing step.
        Object[] finish = {DOUBLE, gamma.argument(), beta.argument(), INT, DOUBLE, DOUBLE, runningMean.argument(),
            runningVar.argument(), savedMean.argument(), savedInvStd.argument(), params.argument(),
            scratch.argument(), status.argument(), blocksDone.argument()};
        statsNchw = call("bn_stats_nchw", concat(new Object[] {xArg, LONG, LONG, LONG, LONG, partialA.argument(),
            partialB.argument(), partialC.argument()}, finish));
        statsChannelsLast = call("bn_stats_channels_last", concat(new Object[] {xArg, LONG, LONG, LONG,
            partialA.argument(), partialB.argument(), partialC.argument()}, finish));
        runningParams = call("bn_running_params", runningMean.argument(), runningVar.argument(), LONG,
                DOUBLE, gamma.argument(), beta.argument(), savedMean.argument(), savedInvStd.argument(),
                params.argument());
        normalizeNchw = call("bn_normalize_nchw", xArg, yArg, LONG, LONG, LONG, params.argument(), INT);
        normalizeChannelsLast = call("bn_normalize_channels_last", xArg, yArg, LONG, LONG,
                params.argument(), INT);
        Pointer dyArg = dyIn.argument(), dxArg = dxOut.argument();
        gradSumsNchw = call("bn_grad_sums_nchw", xArg, dyArg, LONG, LONG, LONG, LONG,
                savedMean.argument(), partialA.argument(), partialB.argument());
        gradSumsChannelsLast = call("bn_grad_sums_channels_last", xArg, dyArg, LONG, LONG, LONG,
                savedMean.argument(), partialA.argument(), partialB.argument());
        gradFinalize = call("bn_grad_finalize", partialA.argument(), partialB.argument(), LONG, LONG,
                LONG, savedInvStd.argument(), gamma.argument(), INT, INT, gammaGrad.argument(), betaGrad.argument(),
                coefficients.argument());
        gradApplyNchw = call("bn_grad_apply_nchw", xArg, dyArg, dxArg, LONG, LONG, LONG,
                params.argument(), coefficients.argument(), INT);
        gradApplyChannelsLast = call("bn_grad_apply_channels_last", xArg, dyArg, dxArg, LONG, LONG,
                params.argument(), coefficients.argument());
        kernels = new KernelCall[] {statsNchw, statsChannelsLast, runningParams, normalizeNchw, normalizeChannelsLast,
            gradSumsNchw, gradSumsChannelsLast, gradFinalize, gradApplyNchw, gradApplyChannelsLast};
    }

    private KernelCall call(String kernel, Object... slots) {
        return new KernelCall(kernel, cuda.kernel(kernel), slots);
    }

    private static Object[] concat(Object[] first, Object[] second) {
        Object[] all = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
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
            upload(x, this.hostX.to(hostX, xOffset), count);
            y.atLeast(count * Sizeof.FLOAT);
            aimAtOwnBuffers();
            training(state, shape, null);
            download(this.hostY.to(hostY, yOffset), y, count);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    @Override
    public void forwardInference(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostY, int yOffset) {
        try {
            cuda.makeCurrent();
            long count = shape.elementCount();
            upload(x, this.hostX.to(hostX, xOffset), count);
            y.atLeast(count * Sizeof.FLOAT);
            aimAtOwnBuffers();
            inference(state, shape, null);
            download(this.hostY.to(hostY, yOffset), y, count);
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
            upload(x, this.hostX.to(hostX, xOffset), count);
            upload(y, this.hostDy.to(hostDy, dyOffset), count); // y holds dy
            dx.atLeast(count * Sizeof.FLOAT);
            aimAtOwnBuffers();
            gradient(state, shape, null);
            download(this.hostDx.to(hostDx, dxOffset), dx, count);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    // ---- caller device memory ----

    /** Training forward from the caller's device x into device y, on {@code stream} (null: the default stream). */
    public void forwardTraining(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceY, CUstream stream) {
        try {
            cuda.makeCurrent();
            xIn.aimAt(deviceX);
            yOut.aimAt(deviceY);
            training(state, shape, stream);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    public void forwardInference(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceY, CUstream stream) {
        try {
            cuda.makeCurrent();
            xIn.aimAt(deviceX);
            yOut.aimAt(deviceY);
            inference(state, shape, stream);
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        }
    }

    public void backward(LayerState state, Shape shape, CUdeviceptr deviceX, CUdeviceptr deviceDy, CUdeviceptr deviceDx,
            CUstream stream) {
        try {
            cuda.makeCurrent();
            xIn.aimAt(deviceX);
            dyIn.aimAt(deviceDy);
            dxOut.aimAt(deviceDx);
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
            for (DeviceBuffer buffer : buffers) {
                buffer.close();
            }
        } catch (CudaException e) {
            throw CudaCalls.map(e);
        } finally {
            for (HostArrayPointer pointer : new HostArrayPointer[] {hostX, hostY, hostDy, hostDx}) {
                pointer.clear(); // let go of the caller's arrays
            }
        }
    }

    // ---- the three operations, on xIn/yOut/dyIn/dxOut ----

    private void training(LayerState state, Shape shape, CUstream stream) {
        uploadChannelState(state);
        batchStatisticsAndNormalize(state, shape, state.config.trackRunningStats(), stream);
    }

    private void inference(LayerState state, Shape shape, CUstream stream) {
        uploadChannelState(state);
        if (!state.config.trackRunningStats()) {
            batchStatisticsAndNormalize(state, shape, false, stream);
            return;
        }
        long channels = shape.channels();
        savedMean.atLeast(channels * Sizeof.DOUBLE);
        savedInvStd.atLeast(channels * Sizeof.FLOAT);
        params.atLeast(channels * 4 * Sizeof.FLOAT);
        runningParams.arg(channels).arg(state.config.eps()).launch(blocks(channels), 1, THREADS, 1, stream);
        launchNormalize(shape, stream);
        synchronize(stream);
        state.commitRunning(shape);
    }

    private void gradient(LayerState state, Shape shape, CUstream stream) {
        int channels = shape.channels();
        long count = shape.elementCount();
        uploadChannelState(state);
        // The latest forward's statistics, from the host (device params may hold a failed step's).
        ensureHost(channels);
        for (int c = 0; c < channels; c++) {
            float hi = (float) state.savedMean[c];
            paramsHost[4 * c] = hi;
            paramsHost[4 * c + 1] = (float) (state.savedMean[c] - hi);
        }
        upload(params, paramsHostPointer.to(paramsHost, 0), 4L * channels);
        long meanBytes = (long) channels * Sizeof.DOUBLE;
        CudaCalls.check(cuMemcpyHtoD(savedMean.atLeast(meanBytes), hostSavedMean.to(state.savedMean, 0), meanBytes),
                "cuMemcpyHtoD", "saved mean");
        upload(savedInvStd, hostSavedInvStd.to(state.savedInvStd, 0), channels);
        idleUntilUploaded();
        boolean reduce = state.savedFromBatch || state.config.affine();
        if (reduce) {
            reductionGeometry(shape);
            partialA.atLeast(channels * blocksPerChannel * Sizeof.DOUBLE);
            partialB.atLeast(channels * blocksPerChannel * Sizeof.DOUBLE);
            if (shape.isChannelsLast()) {
                gradSumsChannelsLast.arg(shape.valuesPerChannel()).arg((long) channels).arg(perBlock)
                        .launch((int) blocksPerChannel, gridY, 32, 8, stream);
            } else {
                gradSumsNchw.arg((long) channels).arg(shape.spatialSize()).arg(shape.valuesPerChannel()).arg(perBlock)
                        .launch((int) blocksPerChannel, gridY, THREADS, 1, stream);
            }
        } else {
            blocksPerChannel = 0;
            partialA.atLeast(8);
            partialB.atLeast(8);
        }
        gammaGrad.atLeast((long) channels * Sizeof.FLOAT);
        betaGrad.atLeast((long) channels * Sizeof.FLOAT);
        coefficients.atLeast(4L * channels * Sizeof.FLOAT);
        gradFinalize.arg(blocksPerChannel).arg((long) channels).arg(shape.valuesPerChannel())
                .arg(state.savedFromBatch ? 1 : 0).arg(reduce ? 1 : 0).launch(blocks(channels), 1, THREADS, 1, stream);
        if (shape.isChannelsLast()) {
            gradApplyChannelsLast.arg(count).arg((long) channels).launch(gridFor(count), 1, THREADS, 1, stream);
        } else {
            boolean vector = shape.spatialSize() % 4 == 0;
            gradApplyNchw.arg((long) shape.n() * channels).arg((long) channels).arg(shape.spatialSize())
                    .arg(vector ? 1 : 0).launch(gridFor(vector ? count / 4 : count), 1, THREADS, 1, stream);
        }
        synchronize(stream);
        if (state.config.affine()) {
            download(hostGammaGrad.to(state.nextGammaGradient, 0), gammaGrad, channels);
            download(hostBetaGrad.to(state.nextBetaGradient, 0), betaGrad, channels);
            state.commitGradients();
        }
    }

    private void batchStatisticsAndNormalize(LayerState state, Shape shape, boolean update, CUstream stream) {
        int channels = shape.channels();
        reductionGeometry(shape);
        long partials = channels * blocksPerChannel;
        partialA.atLeast(partials * Sizeof.FLOAT);
        partialB.atLeast(partials * Sizeof.FLOAT);
        partialC.atLeast(partials * Sizeof.FLOAT);
        savedMean.atLeast((long) channels * Sizeof.DOUBLE);
        savedInvStd.atLeast((long) channels * Sizeof.FLOAT);
        params.atLeast(4L * channels * Sizeof.FLOAT);
        scratch.atLeast(4L * channels * Sizeof.DOUBLE);
        status.atLeast(Sizeof.INT);
        blocksDone.zeroedAtLeast(Sizeof.INT);
        long m = shape.valuesPerChannel();
        long t = state.numBatchesTracked + 1;
        double weight = update ? state.config.newBatchWeight(t) : 0;
        double varianceScale = state.config.runningVariance() == VarianceEstimator.UNBIASED ? (double) m / (m - 1) : 1;
        KernelCall statistics = shape.isChannelsLast()
                ? statsChannelsLast.arg(m).arg((long) channels).arg(perBlock)
                : statsNchw.arg((long) channels).arg(shape.spatialSize()).arg(m).arg(perBlock);
        statistics.arg(state.config.eps()).arg(update ? 1 : 0).arg(weight).arg(varianceScale);
        if (shape.isChannelsLast()) {
            statistics.launch((int) blocksPerChannel, gridY, 32, 8, stream);
        } else {
            statistics.launch((int) blocksPerChannel, gridY, THREADS, 1, stream);
        }
        launchNormalize(shape, stream);
        synchronize(stream);
        CudaCalls.check(cuMemcpyDtoH(statusHostPointer, status.pointer(), Sizeof.INT), "cuMemcpyDtoH", "status");
        if (statusHost[0] > 0) {
            throw new IllegalArgumentException("batch statistics of channel " + (statusHost[0] - 1)
                    + " are not finite for input " + shape
                    + ": the input holds NaN or Inf or overflows float; running statistics left unchanged");
        }
        if (statusHost[0] < 0) {
            throw new IllegalArgumentException("running statistics of channel " + (-statusHost[0] - 1)
                    + " would overflow float for input " + shape + "; running statistics left unchanged");
        }
        ensureHost(channels);
        long meanBytes = (long) channels * Sizeof.DOUBLE;
        CudaCalls.check(cuMemcpyDtoH(meanHostPointer.to(meanHost, 0), savedMean.pointer(), meanBytes), "cuMemcpyDtoH",
                "batch mean");
        download(invStdHostPointer.to(invStdHost, 0), savedInvStd, channels);
        if (update) {
            download(runningMeanHostPointer.to(runningMeanHost, 0), runningMean, channels);
            download(runningVarHostPointer.to(runningVarHost, 0), runningVar, channels);
        }
        state.commitComputed(shape, meanHost, invStdHost, runningMeanHost, runningVarHost, update);
    }

    private void launchNormalize(Shape shape, CUstream stream) {
        long count = shape.elementCount();
        if (shape.isChannelsLast()) {
            boolean vector = shape.channels() % 4 == 0;
            normalizeChannelsLast.arg(count).arg((long) shape.channels()).arg(vector ? 1 : 0)
                    .launch(gridFor(vector ? count / 4 : count), 1, THREADS, 1, stream);
        } else {
            boolean vector = shape.spatialSize() % 4 == 0;
            normalizeNchw.arg((long) shape.n() * shape.channels()).arg((long) shape.channels())
                    .arg(shape.spatialSize()).arg(vector ? 1 : 0)
                    .launch(gridFor(vector ? count / 4 : count), 1, THREADS, 1, stream);
        }
    }

    // ---- geometry ----

    private void reductionGeometry(Shape shape) {
        LaunchGeometry geometry = LaunchGeometry.reduction(shape, cuda.multiprocessors());
        blocksPerChannel = geometry.blocksPerChannel;
        perBlock = geometry.perBlock;
        gridY = geometry.gridY;
    }

    private int gridFor(long work) {
        return LaunchGeometry.elementwiseBlocks(work, cuda.multiprocessors());
    }

    private static int blocks(long channels) {
        return LaunchGeometry.channelBlocks(channels);
    }

    // ---- transfers ----

    /** Host-array calls: the kernels read and write the layer's own buffers. */
    private void aimAtOwnBuffers() {
        xIn.aimAt(x.pointer());
        yOut.aimAt(y.pointer());
        dyIn.aimAt(y.pointer());
        dxOut.aimAt(dx.pointer());
    }

    private void uploadChannelState(LayerState state) {
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
    private static void idleUntilUploaded() {
        CudaCalls.check(cuStreamSynchronize(null), "cuStreamSynchronize", "default stream");
    }

    private static void synchronize(CUstream stream) {
        CudaCalls.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    private static void upload(DeviceBuffer buffer, Pointer host, long floats) {
        long bytes = floats * Sizeof.FLOAT;
        CUdeviceptr target = buffer.atLeast(bytes);
        int result = FaultInjection.cudaResult(FaultInjection.Point.CUDA_COPY);
        if (result == 0) {
            result = cuMemcpyHtoD(target, host, bytes);
        }
        CudaCalls.check(result, "cuMemcpyHtoD");
    }

    private static void download(Pointer host, DeviceBuffer buffer, long floats) {
        int result = FaultInjection.cudaResult(FaultInjection.Point.CUDA_COPY);
        if (result == 0) {
            result = cuMemcpyDtoH(host, buffer.pointer(), floats * Sizeof.FLOAT);
        }
        CudaCalls.check(result, "cuMemcpyDtoH");
    }

    private void ensureHost(int channels) {
        if (meanHost.length < channels) {
            meanHost = new double[channels];
            invStdHost = new float[channels];
            runningMeanHost = new float[channels];
            runningVarHost = new float[channels];
            paramsHost = new float[4 * channels];
        }
    }
}

package io.github.batchnorm4j;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;

/**
 * Batch norm on an NVIDIA GPU through JCuda, with the kernels of {@code cuda/} (see
 * {@link CudaModules}). Host-array calls copy x in and y out; the layer's per-channel state is
 * uploaded each call and the results copied back into {@link LayerState}, so both backends share
 * one definition of the layer's state. A training step is: partial Welford statistics per block,
 * one-block finalize (Chan merge in fp64, EWA update, all-or-nothing on non-finite statistics),
 * normalize.
 *
 * <p>Launch geometry depends on the shape and the device's SM count only, so results are
 * deterministic on a given GPU (no atomics in any reduction).
 */
final class CudaBackend implements BatchNormBackend {
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

    private final int[] statusHost = new int[1];
    private double[] meanHost = new double[0];
    private float[] invStdHost = new float[0];
    private float[] runningMeanHost = new float[0];
    private float[] runningVarHost = new float[0];
    private float[] paramsHost = new float[0];

    // Geometry of the current reduction.
    private long blocksPerChannel;
    private long perBlock;
    private int gridY;

    CudaBackend(CudaContext cuda) {
        this.cuda = cuda;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public void forwardTraining(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostY, int yOffset) {
        cuda.makeCurrent();
        long count = shape.elementCount();
        upload(x, hostX, xOffset, count);
        uploadChannelState(state);
        batchStatisticsAndNormalize(state, shape, state.config.trackRunningStats());
        download(y, hostY, yOffset, count);
    }

    @Override
    public void forwardInference(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostY, int yOffset) {
        cuda.makeCurrent();
        long count = shape.elementCount();
        upload(x, hostX, xOffset, count);
        uploadChannelState(state);
        if (!state.config.trackRunningStats()) {
            batchStatisticsAndNormalize(state, shape, false);
        } else {
            long channels = shape.channels();
            launch("bn_running_params", blocks(channels), 1, THREADS, 1, Pointer.to(
                    Pointer.to(runningMean.pointer()), Pointer.to(runningVar.pointer()), longArg(channels),
                    Pointer.to(new double[] {state.config.eps()}), Pointer.to(gamma.pointer()),
                    Pointer.to(beta.pointer()), Pointer.to(savedMean.atLeast(channels * Sizeof.DOUBLE)),
                    Pointer.to(savedInvStd.atLeast(channels * Sizeof.FLOAT)),
                    Pointer.to(params.atLeast(channels * 4 * Sizeof.FLOAT))));
            launchNormalize(shape);
            state.commitRunning(shape);
        }
        download(y, hostY, yOffset, count);
    }

    @Override
    public void backward(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostDy, int dyOffset,
            float[] hostDx, int dxOffset) {
        cuda.makeCurrent();
        int channels = shape.channels();
        long count = shape.elementCount();
        upload(x, hostX, xOffset, count);
        upload(y, hostDy, dyOffset, count); // y holds dy
        uploadChannelState(state);
        // The latest forward's statistics, from the host (device params may hold a failed step's).
        ensureHost(channels);
        for (int c = 0; c < channels; c++) {
            float hi = (float) state.savedMean[c];
            paramsHost[4 * c] = hi;
            paramsHost[4 * c + 1] = (float) (state.savedMean[c] - hi);
        }
        cuMemcpyHtoD(params.atLeast(4L * channels * Sizeof.FLOAT), Pointer.to(paramsHost), 4L * channels * Sizeof.FLOAT);
        cuMemcpyHtoD(savedMean.atLeast((long) channels * Sizeof.DOUBLE), Pointer.to(state.savedMean),
                (long) channels * Sizeof.DOUBLE);
        cuMemcpyHtoD(savedInvStd.atLeast((long) channels * Sizeof.FLOAT), Pointer.to(state.savedInvStd),
                (long) channels * Sizeof.FLOAT);
        boolean reduce = state.savedFromBatch || state.config.affine();
        if (reduce) {
            reductionGeometry(shape);
            CUdeviceptr sumDy = partialA.atLeast(channels * blocksPerChannel * Sizeof.DOUBLE);
            CUdeviceptr sumDyx = partialB.atLeast(channels * blocksPerChannel * Sizeof.DOUBLE);
            if (shape.isChannelsLast()) {
                launch("bn_grad_sums_channels_last", (int) blocksPerChannel, gridY, 32, 8, Pointer.to(
                        Pointer.to(x.pointer()), Pointer.to(y.pointer()), longArg(shape.valuesPerChannel()),
                        longArg(channels), longArg(perBlock), Pointer.to(savedMean.pointer()), Pointer.to(sumDy),
                        Pointer.to(sumDyx)));
            } else {
                launch("bn_grad_sums_nchw", (int) blocksPerChannel, gridY, THREADS, 1, Pointer.to(
                        Pointer.to(x.pointer()), Pointer.to(y.pointer()), longArg(channels),
                        longArg(shape.spatialSize()), longArg(shape.valuesPerChannel()), longArg(perBlock),
                        Pointer.to(savedMean.pointer()), Pointer.to(sumDy), Pointer.to(sumDyx)));
            }
        } else {
            blocksPerChannel = 0;
        }
        launch("bn_grad_finalize", blocks(channels), 1, THREADS, 1, Pointer.to(
                Pointer.to(partialA.atLeast(8)), Pointer.to(partialB.atLeast(8)), longArg(blocksPerChannel),
                longArg(channels), longArg(shape.valuesPerChannel()), Pointer.to(savedInvStd.pointer()),
                Pointer.to(gamma.pointer()), intArg(state.savedFromBatch ? 1 : 0), intArg(reduce ? 1 : 0),
                Pointer.to(gammaGrad.atLeast((long) channels * Sizeof.FLOAT)),
                Pointer.to(betaGrad.atLeast((long) channels * Sizeof.FLOAT)),
                Pointer.to(coefficients.atLeast(4L * channels * Sizeof.FLOAT))));
        CUdeviceptr out = dx.atLeast(count * Sizeof.FLOAT);
        if (shape.isChannelsLast()) {
            launch("bn_grad_apply_channels_last", gridFor(count), 1, THREADS, 1, Pointer.to(Pointer.to(x.pointer()),
                    Pointer.to(y.pointer()), Pointer.to(out), longArg(count), longArg(channels),
                    Pointer.to(params.pointer()), Pointer.to(coefficients.pointer())));
        } else {
            boolean vector = shape.spatialSize() % 4 == 0;
            long runs = (long) shape.n() * channels;
            launch("bn_grad_apply_nchw", gridFor(vector ? count / 4 : count), 1, THREADS, 1, Pointer.to(
                    Pointer.to(x.pointer()), Pointer.to(y.pointer()), Pointer.to(out), longArg(runs),
                    longArg(channels), longArg(shape.spatialSize()), Pointer.to(params.pointer()),
                    Pointer.to(coefficients.pointer()), intArg(vector ? 1 : 0)));
        }
        download(dx, hostDx, dxOffset, count);
        if (state.config.affine()) {
            cuMemcpyDtoH(Pointer.to(state.gammaGradient), gammaGrad.pointer(), (long) channels * Sizeof.FLOAT);
            cuMemcpyDtoH(Pointer.to(state.betaGradient), betaGrad.pointer(), (long) channels * Sizeof.FLOAT);
        }
    }

    @Override
    public void close() {
        cuda.makeCurrent(); // cuMemFree needs the context current on the closing thread
        for (DeviceBuffer buffer : new DeviceBuffer[] {x, y, dx, gamma, beta, runningMean, runningVar, savedMean,
            savedInvStd, params, coefficients, gammaGrad, betaGrad, partialA, partialB, partialC, scratch, status}) {
            buffer.close();
        }
    }

    // ---- training statistics ----

    private void batchStatisticsAndNormalize(LayerState state, Shape shape, boolean update) {
        int channels = shape.channels();
        reductionGeometry(shape);
        long partials = channels * blocksPerChannel;
        CUdeviceptr count = partialA.atLeast(partials * Sizeof.FLOAT);
        CUdeviceptr mean = partialB.atLeast(partials * Sizeof.FLOAT);
        CUdeviceptr m2 = partialC.atLeast(partials * Sizeof.FLOAT);
        if (shape.isChannelsLast()) {
            launch("bn_stats_channels_last", (int) blocksPerChannel, gridY, 32, 8, Pointer.to(
                    Pointer.to(x.pointer()), longArg(shape.valuesPerChannel()), longArg(channels), longArg(perBlock),
                    Pointer.to(count), Pointer.to(mean), Pointer.to(m2)));
        } else {
            launch("bn_stats_nchw", (int) blocksPerChannel, gridY, THREADS, 1, Pointer.to(Pointer.to(x.pointer()),
                    longArg(channels), longArg(shape.spatialSize()), longArg(shape.valuesPerChannel()),
                    longArg(perBlock), Pointer.to(count), Pointer.to(mean), Pointer.to(m2)));
        }
        long m = shape.valuesPerChannel();
        long t = state.numBatchesTracked + 1;
        double weight = update ? state.config.newBatchWeight(t) : 0;
        double varianceScale = state.config.runningVariance() == VarianceEstimator.UNBIASED ? (double) m / (m - 1) : 1;
        launch("bn_finalize", 1, 1, THREADS, 1, Pointer.to(Pointer.to(count), Pointer.to(mean), Pointer.to(m2),
                longArg(blocksPerChannel), longArg(channels), Pointer.to(x.pointer()),
                longArg(shape.isChannelsLast() ? 1 : shape.spatialSize()), Pointer.to(new double[] {state.config.eps()}),
                Pointer.to(gamma.pointer()), Pointer.to(beta.pointer()), intArg(update ? 1 : 0),
                Pointer.to(new double[] {weight}), Pointer.to(new double[] {varianceScale}),
                Pointer.to(runningMean.pointer()), Pointer.to(runningVar.pointer()),
                Pointer.to(savedMean.atLeast((long) channels * Sizeof.DOUBLE)),
                Pointer.to(savedInvStd.atLeast((long) channels * Sizeof.FLOAT)),
                Pointer.to(params.atLeast(4L * channels * Sizeof.FLOAT)),
                Pointer.to(scratch.atLeast(4L * channels * Sizeof.DOUBLE)), Pointer.to(status.atLeast(Sizeof.INT))));
        launchNormalize(shape);
        cuMemcpyDtoH(Pointer.to(statusHost), status.pointer(), Sizeof.INT);
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
        cuMemcpyDtoH(Pointer.to(meanHost), savedMean.pointer(), (long) channels * Sizeof.DOUBLE);
        cuMemcpyDtoH(Pointer.to(invStdHost), savedInvStd.pointer(), (long) channels * Sizeof.FLOAT);
        if (update) {
            cuMemcpyDtoH(Pointer.to(runningMeanHost), runningMean.pointer(), (long) channels * Sizeof.FLOAT);
            cuMemcpyDtoH(Pointer.to(runningVarHost), runningVar.pointer(), (long) channels * Sizeof.FLOAT);
        }
        state.commitComputed(shape, meanHost, invStdHost, runningMeanHost, runningVarHost, update);
    }

    private void launchNormalize(Shape shape) {
        long count = shape.elementCount();
        CUdeviceptr out = y.atLeast(count * Sizeof.FLOAT);
        if (shape.isChannelsLast()) {
            boolean vector = shape.channels() % 4 == 0;
            launch("bn_normalize_channels_last", gridFor(vector ? count / 4 : count), 1, THREADS, 1, Pointer.to(
                    Pointer.to(x.pointer()), Pointer.to(out), longArg(count), longArg(shape.channels()),
                    Pointer.to(params.pointer()), intArg(vector ? 1 : 0)));
        } else {
            boolean vector = shape.spatialSize() % 4 == 0;
            launch("bn_normalize_nchw", gridFor(vector ? count / 4 : count), 1, THREADS, 1, Pointer.to(
                    Pointer.to(x.pointer()), Pointer.to(out), longArg((long) shape.n() * shape.channels()),
                    longArg(shape.channels()), longArg(shape.spatialSize()), Pointer.to(params.pointer()),
                    intArg(vector ? 1 : 0)));
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

    // ---- transfers and launches ----

    private void uploadChannelState(LayerState state) {
        long bytes = (long) state.config.channels() * Sizeof.FLOAT;
        cuMemcpyHtoD(gamma.atLeast(bytes), Pointer.to(state.gamma), bytes);
        cuMemcpyHtoD(beta.atLeast(bytes), Pointer.to(state.beta), bytes);
        cuMemcpyHtoD(runningMean.atLeast(bytes), Pointer.to(state.runningMean), bytes);
        cuMemcpyHtoD(runningVar.atLeast(bytes), Pointer.to(state.runningVar), bytes);
    }

    private static void upload(DeviceBuffer buffer, float[] host, int offset, long count) {
        cuMemcpyHtoD(buffer.atLeast(count * Sizeof.FLOAT), Pointer.to(host).withByteOffset((long) offset * Sizeof.FLOAT),
                count * Sizeof.FLOAT);
    }

    private static void download(DeviceBuffer buffer, float[] host, int offset, long count) {
        cuMemcpyDtoH(Pointer.to(host).withByteOffset((long) offset * Sizeof.FLOAT), buffer.pointer(),
                count * Sizeof.FLOAT);
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

    private void launch(String kernel, int gridX, int gridY, int blockX, int blockY, Pointer arguments) {
        cuLaunchKernel(cuda.kernel(kernel), gridX, gridY, 1, blockX, blockY, 1, 0, null, arguments, null);
    }

    private static Pointer longArg(long value) {
        return Pointer.to(new long[] {value});
    }

    private static Pointer intArg(int value) {
        return Pointer.to(new int[] {value});
    }
}

package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;

import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.VarianceEstimator;
import io.github.batchnorm4j.internal.LayerState;
import jcuda.Sizeof;
import jcuda.driver.CUstream;

/**
 * Launches the kernels of {@code cuda/batch_norm_statistics.cu}: partial Welford statistics per
 * block, finished by the grid's last block (Chan merge in fp64, EWA update, all-or-nothing on
 * non-finite statistics), then the normalization, so a training forward is two launches. The twin
 * of the CPU path's {@code CpuStatistics}.
 */
final class CudaStatistics {
    private static final int THREADS = LaunchGeometry.THREADS;

    private final CudaContext cuda;
    private final CudaWorkspace w;
    private final CudaNormalize normalize;
    private final KernelCall statsNchw;
    private final KernelCall statsChannelsLast;

    CudaStatistics(CudaContext cuda, CudaWorkspace w, CudaNormalize normalize) {
        this.cuda = cuda;
        this.w = w;
        this.normalize = normalize;
        statsNchw = new KernelCall(Kernel.BN_STATS_NCHW, cuda.kernel(Kernel.BN_STATS_NCHW), w.xIn.argument(),
                w.partialA.argument(), w.partialB.argument(), w.partialC.argument(), w.gamma.argument(),
                w.beta.argument(), w.runningMean.argument(), w.runningVar.argument(), w.savedMean.argument(),
                w.savedInvStd.argument(), w.params.argument(), w.scratch.argument(), w.status.argument(),
                w.blocksDone.argument());
        statsChannelsLast = new KernelCall(Kernel.BN_STATS_CHANNELS_LAST, cuda.kernel(Kernel.BN_STATS_CHANNELS_LAST),
                w.xIn.argument(), w.partialA.argument(), w.partialB.argument(), w.partialC.argument(),
                w.gamma.argument(), w.beta.argument(), w.runningMean.argument(), w.runningVar.argument(),
                w.savedMean.argument(), w.savedInvStd.argument(), w.params.argument(), w.scratch.argument(),
                w.status.argument(), w.blocksDone.argument());
    }

    KernelCall[] kernels() {
        return new KernelCall[] {statsNchw, statsChannelsLast};
    }

    /**
     * Batch statistics of x, normalization into y, and, when {@code update}, the running
     * statistics on the device; then copies the results back and commits them to the host state.
     * Non-finite statistics throw, with the host state unchanged.
     */
    void batchStatisticsAndNormalize(LayerState state, Shape shape, boolean update, CUstream stream) {
        int channels = shape.channels();
        LaunchGeometry geometry = LaunchGeometry.reduction(shape, cuda.multiprocessors());
        long partials = channels * geometry.blocksPerChannel;
        w.partialA.atLeast(partials * Sizeof.FLOAT);
        w.partialB.atLeast(partials * Sizeof.FLOAT);
        w.partialC.atLeast(partials * Sizeof.FLOAT);
        w.savedMean.atLeast((long) channels * Sizeof.DOUBLE);
        w.savedInvStd.atLeast((long) channels * Sizeof.FLOAT);
        w.params.atLeast(4L * channels * Sizeof.FLOAT);
        w.scratch.atLeast(4L * channels * Sizeof.DOUBLE);
        w.status.atLeast(Sizeof.INT);
        w.blocksDone.zeroedAtLeast(Sizeof.INT);
        long m = shape.valuesPerChannel();
        long t = state.numBatchesTracked + 1;
        double weight = update ? state.config.newBatchWeight(t) : 0;
        double varianceScale = state.config.runningVariance() == VarianceEstimator.UNBIASED ? (double) m / (m - 1) : 1;
        KernelCall statistics = shape.isChannelsLast()
                ? statsChannelsLast.arg(m).arg((long) channels).arg(geometry.perBlock)
                : statsNchw.arg((long) channels).arg(shape.spatialSize()).arg(m).arg(geometry.perBlock);
        statistics.arg(state.config.eps()).arg(update ? 1 : 0).arg(weight).arg(varianceScale);
        if (shape.isChannelsLast()) {
            statistics.launch((int) geometry.blocksPerChannel, geometry.gridY, 32, 8, stream);
        } else {
            statistics.launch((int) geometry.blocksPerChannel, geometry.gridY, THREADS, 1, stream);
        }
        normalize.launch(shape, stream);
        CudaWorkspace.synchronize(stream);
        CudaCalls.check(cuMemcpyDtoH(w.statusHostPointer, w.status.pointer(), Sizeof.INT), "cuMemcpyDtoH", "status");
        int status = w.statusHost[0];
        if (status > 0) {
            throw new IllegalArgumentException("batch statistics of channel " + (status - 1)
                    + " are not finite for input " + shape
                    + ": the input holds NaN or Inf or overflows float; running statistics left unchanged");
        }
        if (status < 0) {
            throw new IllegalArgumentException("running statistics of channel " + (-status - 1)
                    + " would overflow float for input " + shape + "; running statistics left unchanged");
        }
        w.ensureHost(channels);
        long meanBytes = (long) channels * Sizeof.DOUBLE;
        CudaCalls.check(cuMemcpyDtoH(w.meanHostPointer.to(w.meanHost, 0), w.savedMean.pointer(), meanBytes),
                "cuMemcpyDtoH", "batch mean");
        CudaWorkspace.download(w.invStdHostPointer.to(w.invStdHost, 0), w.savedInvStd, channels);
        if (update) {
            CudaWorkspace.download(w.runningMeanHostPointer.to(w.runningMeanHost, 0), w.runningMean, channels);
            CudaWorkspace.download(w.runningVarHostPointer.to(w.runningVarHost, 0), w.runningVar, channels);
        }
        state.commitComputed(shape, w.meanHost, w.invStdHost, w.runningMeanHost, w.runningVarHost, update);
    }
}

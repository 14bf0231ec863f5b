package io.github.batchnorm4j.internal.cuda;

import static io.github.batchnorm4j.internal.cuda.LaunchConstants.BLOCK_THREADS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.CHANNELS_LAST_TILE_CHANNELS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.CHANNELS_LAST_TILE_ROWS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAMS_PER_CHANNEL;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.STATISTICS_SCRATCH_BYTES_PER_CHANNEL;

import io.github.batchnorm4j.BatchNormConfig;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.VarianceEstimator;
import io.github.batchnorm4j.internal.LayerState;
import jcuda.Sizeof;
import jcuda.driver.CUstream;

/**
 * Launches the kernels of {@code cuda/batch_norm_statistics.cu}: partial Welford statistics per
 * block, finished by the grid's last block (Chan merge in fp64, EWA update with the weight of the
 * device's own count, all-or-nothing on non-finite statistics, a failure record otherwise), then
 * the normalization, so a training forward is two launches and no copy. The twin of the CPU
 * path's {@code CpuStatistics}.
 */
final class CudaStatistics {
    private final CudaContext cuda;
    private final CudaWorkspace w;
    private final CudaNormalize normalize;
    private final KernelCall statisticsNchw;
    private final KernelCall statisticsChannelsLast;

    CudaStatistics(CudaContext cuda, CudaWorkspace w, CudaLayerState s, CudaNormalize normalize) {
        this.cuda = cuda;
        this.w = w;
        this.normalize = normalize;
        statisticsNchw = new KernelCall(Kernel.BN_STATISTICS_NCHW, cuda.kernel(Kernel.BN_STATISTICS_NCHW),
                w.xIn.argument(), w.partialA.argument(), w.partialB.argument(), w.partialC.argument(),
                s.gamma.argument(), s.beta.argument(), s.runningMean.argument(), s.runningVar.argument(),
                w.params.argument(), w.scratch.argument(), s.counters.argument(), s.failures.argument(),
                w.blocksDone.argument());
        statisticsChannelsLast = new KernelCall(Kernel.BN_STATISTICS_CHANNELS_LAST,
                cuda.kernel(Kernel.BN_STATISTICS_CHANNELS_LAST), w.xIn.argument(), w.partialA.argument(),
                w.partialB.argument(), w.partialC.argument(), s.gamma.argument(), s.beta.argument(),
                s.runningMean.argument(), s.runningVar.argument(), w.params.argument(), w.scratch.argument(),
                s.counters.argument(), s.failures.argument(), w.blocksDone.argument());
    }

    KernelCall[] kernels() {
        return new KernelCall[] {statisticsNchw, statisticsChannelsLast};
    }

    /**
     * Enqueues the batch statistics of x, the normalization into y (with Batch Renormalization's
     * r and d at the state's current limits when {@code renorm}) and, when {@code update}, the
     * running-statistics update, all on {@code stream}. A bad batch is reported through the
     * failure record, with the state unchanged.
     */
    void batchStatisticsAndNormalize(LayerState state, Shape shape, boolean update, boolean renorm, CUstream stream) {
        BatchNormConfig config = state.config;
        int channels = shape.channels();
        LaunchGeometry geometry = LaunchGeometry.reduction(shape, cuda.multiprocessors());
        long partials = channels * geometry.blocksPerChannel;
        w.partialA.atLeast(partials * Sizeof.FLOAT);
        w.partialB.atLeast(partials * Sizeof.FLOAT);
        w.partialC.atLeast(partials * Sizeof.FLOAT);
        w.params.atLeast((long) PARAMS_PER_CHANNEL * channels * Sizeof.FLOAT);
        w.scratch.atLeast((long) STATISTICS_SCRATCH_BYTES_PER_CHANNEL * channels);
        w.blocksDone.zeroedAtLeast(Sizeof.INT, stream);
        long m = shape.valuesPerChannel();
        double varianceScale = config.runningVariance() == VarianceEstimator.UNBIASED ? (double) m / (m - 1) : 1;
        KernelCall statistics = shape.isChannelsLast()
                ? statisticsChannelsLast.arg(m).arg((long) channels).arg(geometry.perBlock)
                : statisticsNchw.arg((long) channels).arg(shape.spatialSize()).arg(m).arg(geometry.perBlock);
        statistics.arg(config.eps()).arg(update ? 1 : 0).arg(weightMode(config)).arg(config.momentum())
                .arg(1 - config.momentum()).arg(varianceScale).arg(renorm ? 1 : 0)
                .arg(renorm ? state.renormRmax : 1.0).arg(renorm ? state.renormDmax : 0.0);
        if (shape.isChannelsLast()) {
            statistics.launch((int) geometry.blocksPerChannel, geometry.gridY, CHANNELS_LAST_TILE_CHANNELS,
                    CHANNELS_LAST_TILE_ROWS, stream);
        } else {
            statistics.launch((int) geometry.blocksPerChannel, geometry.gridY, BLOCK_THREADS, 1, stream);
        }
        normalize.withBatchStatistics(shape, update, renorm, stream);
    }

    /** How the kernels compute BatchNormConfig.newBatchWeight: 0 momentum, 1 cumulative average, 2 bias-corrected. */
    private static int weightMode(BatchNormConfig config) {
        return config.cumulativeAverage() ? 1 : config.biasCorrection() ? 2 : 0;
    }
}

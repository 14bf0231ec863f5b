package io.github.batchnorm4j.internal.cuda;

import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.internal.LayerState;
import jcuda.Sizeof;
import jcuda.driver.CUstream;

/**
 * Launches the kernels of {@code cuda/batch_norm_normalize.cu}: the normalization that ends every
 * forward, and, in inference, the normalization parameters from the running statistics. The twin
 * of the CPU path's {@code CpuNormalize}.
 */
final class CudaNormalize {
    private static final int THREADS = LaunchGeometry.THREADS;

    private final CudaContext cuda;
    private final CudaWorkspace w;
    private final KernelCall runningParams;
    private final KernelCall normalizeNchw;
    private final KernelCall normalizeChannelsLast;
    /** The kernels find an element's channel by multiplication (design.md, 'No division per element'). */
    private FastDivisor spatialDivisor = FastDivisor.of(1);
    private FastDivisor channelsDivisor = FastDivisor.of(1);

    CudaNormalize(CudaContext cuda, CudaWorkspace w) {
        this.cuda = cuda;
        this.w = w;
        runningParams = new KernelCall(Kernel.BN_RUNNING_PARAMS, cuda.kernel(Kernel.BN_RUNNING_PARAMS),
                w.runningMean.argument(), w.runningVar.argument(), w.gamma.argument(), w.beta.argument(),
                w.savedMean.argument(), w.savedInvStd.argument(), w.params.argument());
        normalizeNchw = new KernelCall(Kernel.BN_NORMALIZE_NCHW, cuda.kernel(Kernel.BN_NORMALIZE_NCHW),
                w.xIn.argument(), w.yOut.argument(), w.params.argument());
        normalizeChannelsLast = new KernelCall(Kernel.BN_NORMALIZE_CHANNELS_LAST,
                cuda.kernel(Kernel.BN_NORMALIZE_CHANNELS_LAST), w.xIn.argument(), w.yOut.argument(),
                w.params.argument());
    }

    KernelCall[] kernels() {
        return new KernelCall[] {runningParams, normalizeNchw, normalizeChannelsLast};
    }

    /**
     * Inference with the running statistics (already uploaded): their normalization parameters,
     * then the normalization; returns when the stream is done.
     */
    void withRunningStatistics(LayerState state, Shape shape, CUstream stream) {
        long channels = shape.channels();
        w.savedMean.atLeast(channels * Sizeof.DOUBLE);
        w.savedInvStd.atLeast(channels * Sizeof.FLOAT);
        w.params.atLeast(channels * 4 * Sizeof.FLOAT);
        runningParams.arg(channels).arg(state.config.eps()).arg(shape.isChannelsLast() ? 1 : 0)
                .launch(LaunchGeometry.channelBlocks(channels), 1, THREADS, 1, stream);
        launch(shape, stream);
        CudaWorkspace.synchronize(stream);
    }

    /** y from x with the parameters in the workspace's params buffer. */
    void launch(Shape shape, CUstream stream) {
        long count = shape.elementCount();
        channelsDivisor = channelsDivisor.or(shape.channels());
        if (shape.isChannelsLast()) {
            boolean vector = shape.channels() % 4 == 0;
            normalizeChannelsLast.arg(count).arg((long) shape.channels()).arg(vector ? 1 : 0)
                    .arg(channelsDivisor.multiplier()).arg(channelsDivisor.log())
                    .launch(gridFor(vector ? count / 4 : count), 1, THREADS, 1, stream);
        } else {
            boolean vector = shape.spatialSize() % 4 == 0;
            spatialDivisor = spatialDivisor.or(shape.spatialSize());
            normalizeNchw.arg((long) shape.n() * shape.channels()).arg((long) shape.channels())
                    .arg(shape.spatialSize()).arg(vector ? 1 : 0).arg(spatialDivisor.multiplier())
                    .arg(spatialDivisor.log()).arg(channelsDivisor.multiplier()).arg(channelsDivisor.log())
                    .launch(gridFor(vector ? count / 4 : count), 1, THREADS, 1, stream);
        }
    }

    private int gridFor(long work) {
        return LaunchGeometry.elementwiseBlocks(work, cuda.multiprocessors());
    }
}

package io.github.batchnorm4j.internal.cuda;

import static io.github.batchnorm4j.internal.cuda.LaunchConstants.BLOCK_THREADS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.NCHW_ITEMS_PER_LANE;

import io.github.batchnorm4j.Shape;
import jcuda.driver.CUstream;

/**
 * Launches the kernels of {@code cuda/batch_norm_normalize.cu}: the normalization that ends every
 * forward, with the parameters a training forward's statistics wrote or, in inference, straight
 * from the running statistics, gamma and beta (one launch). The twin of the CPU path's
 * {@code CpuNormalize}.
 */
final class CudaNormalize {
    private final CudaContext cuda;
    private final KernelCall normalizeNchw;
    private final KernelCall normalizeChannelsLast;
    /** The kernels find an element's channel by multiplication (design.md, 'No division per element'). */
    private FastDivisor spatialDivisor = FastDivisor.of(1);
    private FastDivisor channelsDivisor = FastDivisor.of(1);

    CudaNormalize(CudaContext cuda, CudaWorkspace w, CudaLayerState s) {
        this.cuda = cuda;
        normalizeNchw = new KernelCall(Kernel.BN_NORMALIZE_NCHW, cuda.kernel(Kernel.BN_NORMALIZE_NCHW),
                w.xIn.argument(), w.yOut.argument(), w.params.argument(), s.runningMean.argument(),
                s.runningInvStd.argument(), s.gamma.argument(), s.beta.argument(), w.scratch.argument(),
                s.savedMean.argument(), s.savedInvStd.argument(), s.runningMean.argument(), s.runningVar.argument(),
                s.runningInvStd.argument(), s.counters.argument(), s.savedRenorm.argument());
        normalizeChannelsLast = new KernelCall(Kernel.BN_NORMALIZE_CHANNELS_LAST,
                cuda.kernel(Kernel.BN_NORMALIZE_CHANNELS_LAST), w.xIn.argument(), w.yOut.argument(),
                w.params.argument(), s.runningMean.argument(), s.runningInvStd.argument(), s.gamma.argument(),
                s.beta.argument(), w.scratch.argument(), s.savedMean.argument(), s.savedInvStd.argument(),
                s.runningMean.argument(), s.runningVar.argument(), s.runningInvStd.argument(),
                s.counters.argument(), s.savedRenorm.argument());
    }

    KernelCall[] kernels() {
        return new KernelCall[] {normalizeNchw, normalizeChannelsLast};
    }

    /** Inference: y from x with the running statistics, gamma and beta, read in place. */
    void withRunningStatistics(Shape shape, CUstream stream) {
        launch(shape, true, false, false, false, stream);
    }

    /**
     * A batch forward's last launch: y from x with the parameters in the workspace's params
     * buffer, then the commit of the statistics the finishing step checked (and, with
     * {@code update}, of the running statistics; with {@code renorm}, of Batch Renormalization's
     * r and d).
     */
    void withBatchStatistics(Shape shape, boolean update, boolean renorm, CUstream stream) {
        launch(shape, false, true, update, renorm, stream);
    }

    /** y from x with the parameters the host put in the params buffer; nothing is committed. */
    void withParams(Shape shape, CUstream stream) {
        launch(shape, false, false, false, false, stream);
    }

    private void launch(Shape shape, boolean fromRunning, boolean commit, boolean update, boolean renorm,
            CUstream stream) {
        long count = shape.elementCount();
        channelsDivisor = channelsDivisor.or(shape.channels());
        int running = fromRunning ? 1 : 0;
        if (shape.isChannelsLast()) {
            boolean vector = shape.channels() % 4 == 0;
            normalizeChannelsLast.arg(count).arg((long) shape.channels()).arg(vector ? 1 : 0)
                    .arg(channelsDivisor.multiplier()).arg(channelsDivisor.log()).arg(running)
                    .arg(commit ? 1 : 0).arg(update ? 1 : 0).arg(renorm ? 1 : 0)
                    .launch(gridFor(vector ? count / 4 : count), 1, BLOCK_THREADS, 1, stream);
        } else {
            boolean vector = shape.spatialSize() % 4 == 0;
            spatialDivisor = spatialDivisor.or(shape.spatialSize());
            normalizeNchw.arg((long) shape.n() * shape.channels()).arg((long) shape.channels())
                    .arg(shape.spatialSize()).arg(vector ? 1 : 0).arg(spatialDivisor.multiplier())
                    .arg(spatialDivisor.log()).arg(channelsDivisor.multiplier()).arg(channelsDivisor.log())
                    .arg(running).arg(commit ? 1 : 0).arg(update ? 1 : 0).arg(renorm ? 1 : 0)
                    .launch(gridFor(LaunchGeometry.ceilDiv(vector ? count / 4 : count, NCHW_ITEMS_PER_LANE)), 1,
                            BLOCK_THREADS, 1, stream);
        }
    }

    private int gridFor(long work) {
        return LaunchGeometry.elementwiseBlocks(work, cuda.multiprocessors());
    }
}

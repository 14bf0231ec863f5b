package io.github.batchnorm4j.internal.cuda;

import static io.github.batchnorm4j.internal.cuda.LaunchConstants.BACKWARD_SCRATCH_BYTES_PER_CHANNEL;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.BLOCK_THREADS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.CHANNELS_LAST_TILE_CHANNELS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.CHANNELS_LAST_TILE_ROWS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COEFFICIENTS_PER_CHANNEL;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAMS_PER_CHANNEL;

import io.github.batchnorm4j.Shape;
import jcuda.Sizeof;
import jcuda.driver.CUstream;

/**
 * Launches the kernels of {@code cuda/batch_norm_backward.cu}: gradient sums per block with
 * their finish in the grid's last block (dx coefficients; gamma and beta gradients checked), then
 * dx with the gradients' commit: two launches, and a refused second launch commits nothing. The twin of the CPU path's {@code CpuBackward}.
 */
final class CudaBackward {
    private final CudaContext cuda;
    private final CudaWorkspace w;
    private final CudaLayerState s;
    /** The latest forward's 1/sqrt(var + eps): the saved batch values or the running ones. */
    private final DeviceArgument invstd;
    private final KernelCall backwardSumsNchw;
    private final KernelCall backwardSumsChannelsLast;
    private final KernelCall backwardApplyNchw;
    private final KernelCall backwardApplyChannelsLast;
    /** The apply kernels find an element's channel by multiplication (design.md, 'No division per element'). */
    private FastDivisor spatialDivisor = FastDivisor.of(1);
    private FastDivisor channelsDivisor = FastDivisor.of(1);

    CudaBackward(CudaContext cuda, CudaWorkspace w, CudaLayerState s) {
        this.cuda = cuda;
        this.w = w;
        this.s = s;
        invstd = new DeviceArgument(s.savedInvStd.pointer());
        backwardSumsNchw = new KernelCall(Kernel.BN_BACKWARD_SUMS_NCHW, cuda.kernel(Kernel.BN_BACKWARD_SUMS_NCHW),
                w.xIn.argument(), w.dyIn.argument(), s.savedMean.argument(), s.runningMean.argument(),
                invstd.argument(), s.savedRenorm.argument(), s.gamma.argument(), w.partialA.argument(),
                w.partialB.argument(), w.params.argument(), w.coefficients.argument(), w.scratch.argument(),
                s.counters.argument(), s.failures.argument(), w.blocksDone.argument());
        backwardSumsChannelsLast = new KernelCall(Kernel.BN_BACKWARD_SUMS_CHANNELS_LAST,
                cuda.kernel(Kernel.BN_BACKWARD_SUMS_CHANNELS_LAST), w.xIn.argument(), w.dyIn.argument(),
                s.savedMean.argument(), s.runningMean.argument(), invstd.argument(), s.savedRenorm.argument(),
                s.gamma.argument(), w.partialA.argument(), w.partialB.argument(), w.params.argument(), w.coefficients.argument(),
                w.scratch.argument(), s.counters.argument(), s.failures.argument(), w.blocksDone.argument());
        backwardApplyNchw = new KernelCall(Kernel.BN_BACKWARD_APPLY_NCHW, cuda.kernel(Kernel.BN_BACKWARD_APPLY_NCHW),
                w.xIn.argument(), w.dyIn.argument(), w.dxOut.argument(), w.params.argument(),
                w.coefficients.argument(), w.scratch.argument(), s.gammaGrad.argument(), s.betaGrad.argument(),
                s.counters.argument());
        backwardApplyChannelsLast = new KernelCall(Kernel.BN_BACKWARD_APPLY_CHANNELS_LAST,
                cuda.kernel(Kernel.BN_BACKWARD_APPLY_CHANNELS_LAST), w.xIn.argument(), w.dyIn.argument(),
                w.dxOut.argument(), w.params.argument(), w.coefficients.argument(), w.scratch.argument(),
                s.gammaGrad.argument(), s.betaGrad.argument(), s.counters.argument());
    }

    KernelCall[] kernels() {
        return new KernelCall[] {backwardSumsNchw, backwardSumsChannelsLast, backwardApplyNchw,
            backwardApplyChannelsLast};
    }

    /**
     * Enqueues dx, and for an affine layer the gamma and beta gradients, of the latest forward:
     * its batch statistics ({@code fromBatch}) or the running statistics it normalized with,
     * read in place ({@code fromRunning}) or from the saved buffers; after a Batch
     * Renormalization forward ({@code renorm}) with its saved r and d as constants.
     */
    void run(Shape shape, boolean fromBatch, boolean fromRunning, boolean affine, boolean renorm, CUstream stream) {
        int channels = shape.channels();
        long count = shape.elementCount();
        boolean reduce = fromBatch || affine;
        invstd.aimAt(fromRunning ? s.runningInvStd.pointer() : s.savedInvStd.pointer());
        LaunchGeometry geometry = LaunchGeometry.reduction(shape, cuda.multiprocessors());
        // Without sums, one block per channel group finishes: the grid only carries the finish.
        long blocksPerChannel = reduce ? geometry.blocksPerChannel : 1;
        w.partialA.atLeast(channels * blocksPerChannel * Sizeof.DOUBLE);
        w.partialB.atLeast(channels * blocksPerChannel * Sizeof.DOUBLE);
        w.params.atLeast((long) PARAMS_PER_CHANNEL * channels * Sizeof.FLOAT);
        w.coefficients.atLeast((long) COEFFICIENTS_PER_CHANNEL * channels * Sizeof.FLOAT);
        w.scratch.atLeast((long) BACKWARD_SCRATCH_BYTES_PER_CHANNEL * channels);
        w.blocksDone.zeroedAtLeast(Sizeof.INT, stream);
        if (shape.isChannelsLast()) {
            backwardSumsChannelsLast.arg(shape.valuesPerChannel()).arg((long) channels).arg(geometry.perBlock);
            finishArguments(backwardSumsChannelsLast, reduce, fromBatch, fromRunning, affine, renorm)
                    .launch((int) blocksPerChannel, geometry.gridY, CHANNELS_LAST_TILE_CHANNELS,
                            CHANNELS_LAST_TILE_ROWS, stream);
        } else {
            backwardSumsNchw.arg((long) channels).arg(shape.spatialSize()).arg(shape.valuesPerChannel())
                    .arg(geometry.perBlock);
            finishArguments(backwardSumsNchw, reduce, fromBatch, fromRunning, affine, renorm)
                    .launch((int) blocksPerChannel, geometry.gridY, BLOCK_THREADS, 1, stream);
        }
        apply(shape, affine, stream);
    }

    /** dx alone, from the params and coefficients the host put in the workspace; nothing is committed. */
    void applyOnly(Shape shape, CUstream stream) {
        w.scratch.atLeast((long) BACKWARD_SCRATCH_BYTES_PER_CHANNEL * shape.channels());
        apply(shape, false, stream);
    }

    private void apply(Shape shape, boolean commit, CUstream stream) {
        int channels = shape.channels();
        long count = shape.elementCount();
        channelsDivisor = channelsDivisor.or(channels);
        if (shape.isChannelsLast()) {
            backwardApplyChannelsLast.arg(count).arg((long) channels).arg(channelsDivisor.multiplier())
                    .arg(channelsDivisor.log()).arg(commit ? 1 : 0).launch(gridFor(count), 1, BLOCK_THREADS, 1, stream);
        } else {
            boolean vector = shape.spatialSize() % 4 == 0;
            spatialDivisor = spatialDivisor.or(shape.spatialSize());
            backwardApplyNchw.arg((long) shape.n() * channels).arg((long) channels).arg(shape.spatialSize())
                    .arg(vector ? 1 : 0).arg(spatialDivisor.multiplier()).arg(spatialDivisor.log())
                    .arg(channelsDivisor.multiplier()).arg(channelsDivisor.log()).arg(commit ? 1 : 0)
                    .launch(gridFor(vector ? count / 4 : count), 1, BLOCK_THREADS, 1, stream);
        }
    }

    private static KernelCall finishArguments(KernelCall sums, boolean reduce, boolean fromBatch, boolean fromRunning,
            boolean affine, boolean renorm) {
        return sums.arg(reduce ? 1 : 0).arg(fromBatch ? 1 : 0).arg(fromRunning ? 1 : 0).arg(affine ? 1 : 0)
                .arg(renorm ? 1 : 0);
    }

    private int gridFor(long work) {
        return LaunchGeometry.elementwiseBlocks(work, cuda.multiprocessors());
    }
}

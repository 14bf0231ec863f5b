package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.internal.LayerState;
import jcuda.Sizeof;
import jcuda.driver.CUstream;

/**
 * Launches the kernels of {@code cuda/batch_norm_backward.cu}: gradient sums per block, their
 * finish (gamma and beta gradients, dx coefficients), then dx. The twin of the CPU path's
 * {@code CpuBackward}.
 */
final class CudaBackward {
    private static final int THREADS = LaunchGeometry.THREADS;

    private final CudaContext cuda;
    private final CudaWorkspace w;
    private final KernelCall gradSumsNchw;
    private final KernelCall gradSumsChannelsLast;
    private final KernelCall gradFinalize;
    private final KernelCall gradApplyNchw;
    private final KernelCall gradApplyChannelsLast;
    /** The apply kernels find an element's channel by multiplication (design.md, 'No division per element'). */
    private FastDivisor spatialDivisor = FastDivisor.of(1);
    private FastDivisor channelsDivisor = FastDivisor.of(1);

    CudaBackward(CudaContext cuda, CudaWorkspace w) {
        this.cuda = cuda;
        this.w = w;
        gradSumsNchw = new KernelCall(Kernel.BN_GRAD_SUMS_NCHW, cuda.kernel(Kernel.BN_GRAD_SUMS_NCHW),
                w.xIn.argument(), w.dyIn.argument(), w.savedMean.argument(), w.partialA.argument(),
                w.partialB.argument());
        gradSumsChannelsLast = new KernelCall(Kernel.BN_GRAD_SUMS_CHANNELS_LAST,
                cuda.kernel(Kernel.BN_GRAD_SUMS_CHANNELS_LAST), w.xIn.argument(), w.dyIn.argument(),
                w.savedMean.argument(), w.partialA.argument(), w.partialB.argument());
        gradFinalize = new KernelCall(Kernel.BN_GRAD_FINALIZE, cuda.kernel(Kernel.BN_GRAD_FINALIZE),
                w.partialA.argument(), w.partialB.argument(), w.savedInvStd.argument(), w.gamma.argument(),
                w.gammaGrad.argument(), w.betaGrad.argument(), w.coefficients.argument());
        gradApplyNchw = new KernelCall(Kernel.BN_GRAD_APPLY_NCHW, cuda.kernel(Kernel.BN_GRAD_APPLY_NCHW),
                w.xIn.argument(), w.dyIn.argument(), w.dxOut.argument(), w.params.argument(),
                w.coefficients.argument());
        gradApplyChannelsLast = new KernelCall(Kernel.BN_GRAD_APPLY_CHANNELS_LAST,
                cuda.kernel(Kernel.BN_GRAD_APPLY_CHANNELS_LAST), w.xIn.argument(), w.dyIn.argument(),
                w.dxOut.argument(), w.params.argument(), w.coefficients.argument());
    }

    KernelCall[] kernels() {
        return new KernelCall[] {gradSumsNchw, gradSumsChannelsLast, gradFinalize, gradApplyNchw,
            gradApplyChannelsLast};
    }

    /**
     * dx, and for an affine layer the gamma and beta gradients, of the latest forward (its saved
     * statistics, uploaded from the host); gamma and beta must be uploaded already.
     */
    void run(LayerState state, Shape shape, CUstream stream) {
        int channels = shape.channels();
        long count = shape.elementCount();
        // The latest forward's statistics, from the host (device params may hold a failed step's).
        // In the layout the apply kernel reads (cuda/normalize_params.cuh): planar for channels-last.
        w.ensureHost(channels);
        boolean planar = shape.isChannelsLast();
        for (int c = 0; c < channels; c++) {
            float hi = (float) state.savedMean[c];
            int at = planar ? c : 4 * c;
            w.paramsHost[at] = hi;
            w.paramsHost[at + (planar ? channels : 1)] = (float) (state.savedMean[c] - hi);
        }
        CudaWorkspace.upload(w.params, w.paramsHostPointer.to(w.paramsHost, 0), 4L * channels);
        long meanBytes = (long) channels * Sizeof.DOUBLE;
        CudaCalls.check(cuMemcpyHtoD(w.savedMean.atLeast(meanBytes), w.hostSavedMean.to(state.savedMean, 0),
                meanBytes), "cuMemcpyHtoD", "saved mean");
        CudaWorkspace.upload(w.savedInvStd, w.hostSavedInvStd.to(state.savedInvStd, 0), channels);
        CudaWorkspace.idleUntilUploaded();
        boolean reduce = state.savedFromBatch || state.config.affine();
        long blocksPerChannel = 0;
        if (reduce) {
            LaunchGeometry geometry = LaunchGeometry.reduction(shape, cuda.multiprocessors());
            blocksPerChannel = geometry.blocksPerChannel;
            w.partialA.atLeast(channels * blocksPerChannel * Sizeof.DOUBLE);
            w.partialB.atLeast(channels * blocksPerChannel * Sizeof.DOUBLE);
            if (shape.isChannelsLast()) {
                gradSumsChannelsLast.arg(shape.valuesPerChannel()).arg((long) channels).arg(geometry.perBlock)
                        .launch((int) blocksPerChannel, geometry.gridY, 32, 8, stream);
            } else {
                gradSumsNchw.arg((long) channels).arg(shape.spatialSize()).arg(shape.valuesPerChannel())
                        .arg(geometry.perBlock).launch((int) blocksPerChannel, geometry.gridY, THREADS, 1, stream);
            }
        } else {
            w.partialA.atLeast(8);
            w.partialB.atLeast(8);
        }
        w.gammaGrad.atLeast((long) channels * Sizeof.FLOAT);
        w.betaGrad.atLeast((long) channels * Sizeof.FLOAT);
        w.coefficients.atLeast(4L * channels * Sizeof.FLOAT);
        gradFinalize.arg(blocksPerChannel).arg((long) channels).arg(shape.valuesPerChannel())
                .arg(state.savedFromBatch ? 1 : 0).arg(reduce ? 1 : 0)
                .launch(LaunchGeometry.channelBlocks(channels), 1, THREADS, 1, stream);
        channelsDivisor = channelsDivisor.or(channels);
        if (shape.isChannelsLast()) {
            gradApplyChannelsLast.arg(count).arg((long) channels).arg(channelsDivisor.multiplier())
                    .arg(channelsDivisor.log()).launch(gridFor(count), 1, THREADS, 1, stream);
        } else {
            boolean vector = shape.spatialSize() % 4 == 0;
            spatialDivisor = spatialDivisor.or(shape.spatialSize());
            gradApplyNchw.arg((long) shape.n() * channels).arg((long) channels).arg(shape.spatialSize())
                    .arg(vector ? 1 : 0).arg(spatialDivisor.multiplier()).arg(spatialDivisor.log())
                    .arg(channelsDivisor.multiplier()).arg(channelsDivisor.log())
                    .launch(gridFor(vector ? count / 4 : count), 1, THREADS, 1, stream);
        }
        CudaWorkspace.synchronize(stream);
        if (state.config.affine()) {
            CudaWorkspace.download(w.hostGammaGrad.to(state.nextGammaGradient, 0), w.gammaGrad, channels);
            CudaWorkspace.download(w.hostBetaGrad.to(state.nextBetaGradient, 0), w.betaGrad, channels);
            state.commitGradients();
        }
    }

    private int gridFor(long work) {
        return LaunchGeometry.elementwiseBlocks(work, cuda.multiprocessors());
    }
}

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
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.internal.LayerState;
import jcuda.Pointer;
import jcuda.Sizeof;

/**
 * Synchronized batch norm on CUDA (host arrays): a step's statistics and gradient sums come from
 * every worker, so the host makes what the finishing kernels would make from them, uploads it,
 * and runs only the elementwise kernels. Synchronized steps already wait for the network, so the
 * copies of C-sized state cost little beside them. {@link CudaBackend} makes the device current
 * and reports earlier failures first.
 */
final class CudaSynchronizedStep {
    private final CudaWorkspace w;
    private final CudaLayerState s;
    private final CudaNormalize normalize;
    private final CudaBackward backward;

    CudaSynchronizedStep(CudaWorkspace w, CudaLayerState s, CudaNormalize normalize, CudaBackward backward) {
        this.w = w;
        this.s = s;
        this.normalize = normalize;
        this.backward = backward;
    }

    /**
     * A training forward with outside statistics: the state comes to the host, the normalization
     * parameters are made there (as the statistics kernels' finishing step makes them:
     * normalize_params.cuh) and uploaded, the normalize kernel runs without its commit, and the
     * host commits and uploads the state.
     */
    void forward(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostY, int yOffset,
            double[] mean, double[] variance, long valuesPerChannel) {
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
        upload(w.params, params, "params");
        normalize.withParams(shape, w.stream());
        w.download(hostY, yOffset, w.y, count);
        state.commitBatch(shape, mean, variance, invStd, state.config.trackRunningStats(), r, d, valuesPerChannel);
        s.push(state);
    }

    /**
     * The backward of {@link #forward} with outside gradient sums: the dx coefficients are made on
     * the host (as finalize_backward.cuh makes them), the apply kernel runs without its commit,
     * and the host commits the gradients and uploads them.
     */
    void backward(LayerState state, Shape shape, float[] hostX, int xOffset, float[] hostDy, int dyOffset,
            float[] hostDx, int dxOffset, double[] sumDy, double[] sumDyCentered, long valuesPerChannel) {
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
        }
        state.gradientsFromSums(sumDy, sumDyCentered);
        int count = (int) shape.elementCount();
        w.upload(w.x, w.stagingIn, hostX, xOffset, count);
        w.upload(w.y, w.stagingIn2, hostDy, dyOffset, count); // y holds dy
        w.dx.atLeast((long) count * Sizeof.FLOAT);
        w.aimAtOwnBuffers();
        upload(w.params, params, "params");
        upload(w.coefficients, coefficients, "coefficients");
        backward.applyOnly(shape, w.stream());
        w.download(hostDx, dxOffset, w.dx, count);
        if (state.config.affine()) {
            state.commitGradients();
        }
        s.push(state);
    }

    /**
     * On the layer's stream, before the kernel that reads it: from pageable memory the driver
     * stages the values before it returns, and the stream orders the copy before the kernel.
     */
    private void upload(DeviceBuffer buffer, float[] values, String what) {
        long bytes = (long) values.length * Sizeof.FLOAT;
        buffer.atLeast(bytes);
        CudaCalls.check(cuMemcpyHtoDAsync(buffer.pointer(), Pointer.to(values), bytes, w.stream()),
                "cuMemcpyHtoDAsync", what);
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
}

// The finishing step of a backward, run by whichever block of the gradient-sum grid finishes last
// (as finalize_statistics.cuh for the forward), so a backward is two launches: sums with their
// finish, then dx.
//
//   finalize_backward  adds each channel's partials in block order (fp64); writes the dx
//                      coefficients (k, kc, k0) and the mean the apply kernels subtract
//                      (mean_hi, mean_lo into params, in its layout: normalize_params.cuh);
//                      and, for an affine layer, the gamma and beta gradients to commit
//                      (scratch): only if all are finite does the apply kernel commit them
//                      (commit_gradients in layer_record.cuh); otherwise it reports the first
//                      bad channel and the gradients keep their old values
//
// The statistics are the latest forward's: the saved batch statistics (from_running = 0) or the
// running statistics an inference forward normalized with (from_running = 1).
#pragma once

#include "launch_constants.cuh"
#include "layer_record.cuh"

// The coefficient below is made field by field in this order.
static_assert(COEFFICIENTS_PER_CHANNEL == 4 && COEFFICIENT_K == 0 && COEFFICIENT_KC == 1 && COEFFICIENT_K0 == 2,
              "a channel's dx coefficients are one float4: (k, kc, k0, 0)");

// invstd is the host's choice (the saved or the running 1/sqrt(var + eps)); the mean's two
// sources differ in type, so the kernel picks.
struct GradientSource {
    const double* __restrict__ saved_mean;
    const float* __restrict__ running_mean;
    const float* __restrict__ invstd;
    int from_running;
    // Batch Renormalization's r (C floats) then d (C floats) of the forward, used when renormalized:
    // y = gamma * (xhat * r + d) + beta with r, d constant, so dx flows through gamma * r and
    // d loss / d gamma = r * sum(dy * xhat) + d * sum(dy)
    const float* __restrict__ renorm;
    int renormalized;
};

__device__ __forceinline__ double source_mean(GradientSource s, long long c) {
    return s.from_running ? (double)s.running_mean[c] : s.saved_mean[c];
}

// batch_terms = 1 after a training forward (statistics depend on x), 0 after inference.
// reduce = 0 when there are no partials (inference without affine): only k is nonzero.
struct GradientArguments {
    long long blocks_per_channel;
    long long channels;
    long long per_channel;
    int batch_terms;
    int reduce;
    int planar;
    int affine;  // whether the layer has gamma and beta, whose gradients are checked and committed
};

// Every thread of the block must call it (thread, threads: its index in the block, the block's
// size). Partials are read through L2 (__ldcg): other blocks of this launch wrote them.
__device__ __forceinline__ void finalize_backward(const double* partial_dy, const double* partial_dyx, GradientArguments a,
                                   GradientSource source, const float* __restrict__ gamma,
                                   float* __restrict__ params, float4* __restrict__ coefficients,
                                   float* __restrict__ scratch, long long* __restrict__ counters, long long* failure,
                                   int thread, int threads) {
    __shared__ int first_bad;
    if (thread == 0) {
        first_bad = 0x7fffffff;
    }
    __syncthreads();
    long long channels = a.channels;
#pragma unroll 1
    for (long long c = thread; c < channels; c += threads) {
        double sum_dy = 0.0, sum_dyx = 0.0;
        if (a.reduce) {
#pragma unroll 1
            for (long long b = 0; b < a.blocks_per_channel; b++) {
                sum_dy += __ldcg(partial_dy + b * channels + c);
                sum_dyx += __ldcg(partial_dyx + b * channels + c);
            }
        }
        float invstd = source.invstd[c];
        double d_beta = sum_dy;
        double d_gamma = sum_dyx * invstd; // sum(dy * xhat)
        float scale = gamma ? gamma[c] : 1.0f;
        double gamma_gradient = d_gamma;
        if (source.renormalized) {
            // LayerState.gammaGradient's operations, unfused as in Java (-fmad=false: scripts/build-ptx)
            float r = source.renorm[c], d = source.renorm[channels + c];
            scale = scale * r;
            gamma_gradient = d_gamma * r;
            if (d != 0.0f) {
                gamma_gradient += d * d_beta;
            }
        }
        double k = (double)scale * invstd;
        float4 coefficient;
        coefficient.x = (float)k;
        coefficient.y = a.batch_terms ? (float)(k * invstd * d_gamma / a.per_channel) : 0.0f;
        coefficient.z = a.batch_terms ? (float)(k * d_beta / a.per_channel) : 0.0f;
        coefficient.w = 0.0f;
        coefficients[c] = coefficient;
        double mean = source_mean(source, c);
        float hi = (float)mean;
        float lo = (float)(mean - (double)hi);
        if (a.planar) {
            params[PARAM_MEAN_HI * channels + c] = hi;
            params[PARAM_MEAN_LO * channels + c] = lo;
        } else {
            reinterpret_cast<float4*>(params)[c] = make_float4(hi, lo, 0.0f, 0.0f);
        }
        if (a.affine) {
            float g = (float)gamma_gradient, b = (float)d_beta;
            if (!(isfinite(g) && isfinite(b))) {
                atomicMin(&first_bad, (int)c);
            }
            scratch[c] = g;
            scratch[channels + c] = b;
        }
    }
    __syncthreads();
    if (thread == 0 && a.affine) {
        // All or nothing: the apply kernel commits only gradients that are all finite.
        counters[COUNT_GRADIENTS_READY] = first_bad == 0x7fffffff;
        if (first_bad != 0x7fffffff) {
            report_failure(counters, failure, FAILURE_GRADIENTS, first_bad);
        }
    }
}

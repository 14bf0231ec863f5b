// The finishing step of a training forward's statistics. The statistics kernels run it in
// whichever block of their grid finishes last, so a training forward is two launches
// (statistics, normalize) rather than three with a finalize kernel between them.
//
//   finalize_statistics   merges each channel's partial Welford states in order (fp64); from the
//                         batch mean and biased variance (and, with Batch Renormalization, its
//                         r and d against the running statistics) writes the normalization parameters and
//                         the statistics to commit (scratch); only if every channel's are finite
//                         does it let the normalize kernel commit them (commit_statistics in
//                         layer_record.cuh); otherwise it reports the first bad channel in the
//                         failure record, and nothing but params and the forward count changes
//
// params: see normalize_params.cuh.
// The arithmetic is the CPU path's (LayerState.commitBatch), in the same order and precision.
#pragma once

#include "last_block.cuh"
#include "layer_record.cuh"
#include "normalize_params.cuh"

// The statistics arguments the finishing step needs besides the partials; gamma and beta may be
// null (no affine): 1 and 0. update = 0 skips the running statistics. weight_mode, momentum and
// decay give w of running = (1 - w) * running + w * batch (new_batch_weight); variance_scale is
// m / (m - 1) for the unbiased estimator, 1 for the biased one. x[c * shift_stride] is the value channel c's statistics were
// shifted by (H*W for NCHW, 1 for channels-last).
struct FinalizeArguments {
    double eps;
    int weight_mode;
    double momentum;
    double decay;
    double variance_scale;
    int update;
    int planar;  // the params layout (normalize_params.cuh): 1 for the channels-last kernels
    int renorm;  // Batch Renormalization: r and d from the running statistics before this update
    double renorm_rmax;
    double renorm_dmax;
};

// Every thread of the block must call it (thread, threads: this thread's index in the block and
// the block's size). Partials are read through L2 (__ldcg): other blocks of this launch wrote them.
__device__ void finalize_statistics(const float* partial_count, const float* partial_mean,
                                    const float* partial_m2, long long blocks_per_channel, long long channels,
                                    const float* __restrict__ x, long long shift_stride, FinalizeArguments a,
                                    const float* __restrict__ gamma, const float* __restrict__ beta,
                                    const float* __restrict__ running_mean,
                                    const float* __restrict__ running_var, float* __restrict__ params,
                                    double* __restrict__ scratch, long long* __restrict__ counters,
                                    long long* failure, int thread, int threads) {
    __shared__ int first_bad;         // channel with non-finite batch statistics
    __shared__ int first_overflow;    // channel whose running statistics would overflow
    if (thread == 0) {
        first_bad = 0x7fffffff;
        first_overflow = 0x7fffffff;
    }
    // Thread 0 reads the count here, before it advances it at the end.
    __shared__ double new_weight;
    if (thread == 0) {
        new_weight = new_batch_weight(a.weight_mode, a.momentum, a.decay, counters[COUNT_BATCHES] + 1);
    }
    __syncthreads();
    // Pass 1: statistics into scratch (layer_record.cuh). The square root of the next running
    // variance is taken here, so the normalize kernel's commit only copies.
#pragma unroll 1
    for (long long c = thread; c < channels; c += threads) {
        double count = 0.0, mean = 0.0, m2 = 0.0;
#pragma unroll 1
        for (long long b = 0; b < blocks_per_channel; b++) {
            long long slot = b * channels + c;
            double nb = __ldcg(partial_count + slot);
            double total = count + nb;
            if (nb > 0.0) {
                // Chan's merge, its last multiply-adds fused (__fma_rn) as in welford_merge
                double delta = (double)__ldcg(partial_mean + slot) - mean;
                double weight_b = nb / total;
                mean = __fma_rn(delta, weight_b, mean);
                m2 += __fma_rn(delta * delta * count, weight_b, (double)__ldcg(partial_m2 + slot));
            }
            count = total;
        }
        double variance = fmax(m2, 0.0) / count;
        double batch_mean = (double)x[c * shift_stride] + mean;
        float invstd = (float)(1.0 / sqrt(variance + a.eps));
        float g = gamma ? gamma[c] : 1.0f, shift = beta ? beta[c] : 0.0f;
        float r = 1.0f, d = 0.0f;
        if (a.renorm) {
            // LayerState.renormCorrection, renormGamma and renormBeta, in the same operations (unfused,
            // as in Java: -fmad=false, scripts/build-ptx):
            // y = gamma * (xhat * r + d) + beta is the plain map with gamma * r and beta + gamma * d
            double sigma = sqrt((double)running_var[c] + a.eps);
            double ratio = sqrt(variance + a.eps) / sigma;
            double offset = (batch_mean - (double)running_mean[c]) / sigma;
            r = (float)fmin(fmax(ratio, 1.0 / a.renorm_rmax), a.renorm_rmax);
            d = (float)fmin(fmax(offset, -a.renorm_dmax), a.renorm_dmax);
            if (d != 0.0f) {
                shift = (float)((double)shift + (double)g * d);
            }
            g = g * r;
        }
        write_params(params, c, channels, a.planar, batch_mean, invstd, g, shift);
        float next_mean = 0.0f, next_var = 0.0f;
        if (a.update) {
            // LayerState.commitBatch's operations, unfused as in Java (-fmad=false: scripts/build-ptx)
            next_mean = (float)((1.0 - new_weight) * running_mean[c] + new_weight * batch_mean);
            next_var = (float)((1.0 - new_weight) * running_var[c] + new_weight * (variance * a.variance_scale));
        }
        if (!(isfinite(batch_mean) && isfinite(variance) && isfinite(invstd))) {
            atomicMin(&first_bad, (int)c);
        } else if (!(isfinite(next_mean) && isfinite(next_var))) {
            atomicMin(&first_overflow, (int)c);
        }
        scratch[c] = batch_mean;
        scratch_plane(scratch, channels, SCRATCH_INVSTD)[c] = invstd;
        scratch_plane(scratch, channels, SCRATCH_NEXT_MEAN)[c] = next_mean;
        scratch_plane(scratch, channels, SCRATCH_NEXT_VAR)[c] = next_var;
        scratch_plane(scratch, channels, SCRATCH_NEXT_INVSTD)[c] =
            (float)(1.0 / sqrt((double)next_var + a.eps)); // LayerState.invStd
        scratch_plane(scratch, channels, SCRATCH_RENORM_R)[c] = r;
        scratch_plane(scratch, channels, SCRATCH_RENORM_D)[c] = d;
    }
    __syncthreads();
    int bad = first_bad;
    int overflow = first_overflow;
    if (thread == 0) {
        counters[COUNT_FORWARDS] += 1;
        if (bad != 0x7fffffff) {
            report_failure(counters, failure, FAILURE_BATCH_STATISTICS, bad);
        } else if (overflow != 0x7fffffff) {
            report_failure(counters, failure, FAILURE_RUNNING_OVERFLOW, overflow);
        }
        // All or nothing: the normalize kernel commits only a call whose statistics are all finite.
        counters[COUNT_STATISTICS_READY] = bad == 0x7fffffff && overflow == 0x7fffffff;
    }
}

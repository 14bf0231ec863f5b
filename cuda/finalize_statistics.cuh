// The finishing step of a training forward's statistics. The statistics kernels run it in
// whichever block of their grid finishes last, so a training forward is two launches
// (statistics, normalize) rather than three with a finalize kernel between them.
//
//   last_block_to_finish  counts the grid's finished blocks; true, in every thread, in the last
//   finalize_statistics   merges each channel's partial Welford states in order (fp64); from the
//                         batch mean and biased variance writes the normalization parameters,
//                         then, only if every channel's statistics are finite, the saved
//                         statistics and the running-average update; status[0] = 0 on success,
//                         1 + c when channel c's batch statistics are not finite, -(1 + c) when
//                         its running statistics would overflow float; on failure nothing but
//                         params changed
//
// params: see normalize_params.cuh.
// The arithmetic is the CPU path's (LayerState.commitBatch), in the same order and precision.
#pragma once

#include "normalize_params.cuh"

// Every thread of the block must call it, after its own writes of the block's results. The
// fence makes those writes visible to the whole device before the block is counted, so the last
// block reads every block's results. blocks_done is 0 before the launch and again after it (the
// last block resets it), so the next launch on the stream starts from 0.
__device__ __forceinline__ bool last_block_to_finish(unsigned int* blocks_done) {
    __shared__ bool last;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0 && threadIdx.y == 0) {
        unsigned int blocks = gridDim.x * gridDim.y;
        last = atomicAdd(blocks_done, 1u) == blocks - 1;
        if (last) {
            *blocks_done = 0;
        }
    }
    __syncthreads();
    return last;
}

// The statistics arguments the finishing step needs besides the partials; gamma and beta may be
// null (no affine): 1 and 0. update = 0 skips the running statistics. new_weight is w of
// running = (1 - w) * running + w * batch; variance_scale is m / (m - 1) for the unbiased
// estimator, 1 for the biased one. x[c * shift_stride] is the value channel c's statistics were
// shifted by (H*W for NCHW, 1 for channels-last).
struct FinalizeArguments {
    double eps;
    double new_weight;
    double variance_scale;
    int update;
    int planar;  // the params layout (normalize_params.cuh): 1 for the channels-last kernels
};

// Every thread of the block must call it (thread, threads: this thread's index in the block and
// the block's size). Partials are read through L2 (__ldcg): other blocks of this launch wrote them.
__device__ void finalize_statistics(const float* partial_count, const float* partial_mean,
                                    const float* partial_m2, long long blocks_per_channel, long long channels,
                                    const float* __restrict__ x, long long shift_stride, FinalizeArguments a,
                                    const float* __restrict__ gamma, const float* __restrict__ beta,
                                    float* __restrict__ running_mean, float* __restrict__ running_var,
                                    double* __restrict__ saved_mean, float* __restrict__ saved_invstd,
                                    float* __restrict__ params, double* __restrict__ scratch,
                                    int* __restrict__ status, int thread, int threads) {
    __shared__ int first_bad;         // channel with non-finite batch statistics
    __shared__ int first_overflow;    // channel whose running statistics would overflow
    if (thread == 0) {
        first_bad = 0x7fffffff;
        first_overflow = 0x7fffffff;
    }
    __syncthreads();
    // Pass 1: statistics into scratch (four planes of C doubles: mean, invstd, next mean, next
    // var; planes, so that a warp, a channel per thread, writes whole sectors).
#pragma unroll 1
    for (long long c = thread; c < channels; c += threads) {
        double count = 0.0, mean = 0.0, m2 = 0.0;
#pragma unroll 1
        for (long long b = 0; b < blocks_per_channel; b++) {
            long long slot = b * channels + c;
            double nb = __ldcg(partial_count + slot);
            double total = count + nb;
            if (nb > 0.0) {
                double delta = (double)__ldcg(partial_mean + slot) - mean;
                double weight_b = nb / total;
                mean += delta * weight_b;
                m2 += (double)__ldcg(partial_m2 + slot) + delta * delta * count * weight_b;
            }
            count = total;
        }
        double variance = fmax(m2, 0.0) / count;
        double batch_mean = (double)x[c * shift_stride] + mean;
        float invstd = (float)(1.0 / sqrt(variance + a.eps));
        write_params(params, c, channels, a.planar, batch_mean, invstd, gamma ? gamma[c] : 1.0f,
                     beta ? beta[c] : 0.0f);
        float next_mean = 0.0f, next_var = 0.0f;
        if (a.update) {
            next_mean = (float)((1.0 - a.new_weight) * running_mean[c] + a.new_weight * batch_mean);
            next_var = (float)((1.0 - a.new_weight) * running_var[c] + a.new_weight * (variance * a.variance_scale));
        }
        if (!(isfinite(batch_mean) && isfinite(variance) && isfinite(invstd))) {
            atomicMin(&first_bad, (int)c);
        } else if (!(isfinite(next_mean) && isfinite(next_var))) {
            atomicMin(&first_overflow, (int)c);
        }
        scratch[c] = batch_mean;
        scratch[channels + c] = invstd;
        scratch[2 * channels + c] = next_mean;
        scratch[3 * channels + c] = next_var;
    }
    __syncthreads();
    int bad = first_bad;
    int overflow = first_overflow;
    // Pass 2: commit, all or nothing.
    if (bad == 0x7fffffff && overflow == 0x7fffffff) {
#pragma unroll 1
        for (long long c = thread; c < channels; c += threads) {
            saved_mean[c] = scratch[c];
            saved_invstd[c] = (float)scratch[channels + c];
            if (a.update) {
                running_mean[c] = (float)scratch[2 * channels + c];
                running_var[c] = (float)scratch[3 * channels + c];
            }
        }
    }
    if (thread == 0) {
        status[0] = bad != 0x7fffffff ? 1 + bad : overflow != 0x7fffffff ? -(1 + overflow) : 0;
    }
}

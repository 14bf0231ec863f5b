// Per-channel finishing steps, one small launch each, on one block that loops over channels.
//
//   bn_finalize        merges the partial Welford states of each channel in order (fp64), and
//                      from the batch mean and biased variance writes the normalization
//                      parameters, then, only if every channel's statistics are finite, the
//                      saved statistics and the running-average update; status[0] = 0 on
//                      success, 1 + c when channel c's batch statistics are not finite,
//                      -(1 + c) when its running statistics would overflow float; on failure
//                      nothing but params changed
//   bn_running_params  the normalization parameters of inference, from the running statistics
//
// params holds 4 floats per channel: mean_hi, mean_lo (mean = hi + lo), scale = gamma * invstd,
// shift = beta; the normalize kernels compute ((x - mean_hi) - mean_lo) * scale + shift.
// The arithmetic is the CPU path's (LayerState.commitBatch), in the same order and precision.

__device__ __forceinline__ void write_params(float* params, long long c, double mean, float invstd,
                                             float gamma, float beta) {
    float hi = (float)mean;
    params[4 * c] = hi;
    params[4 * c + 1] = (float)(mean - (double)hi);
    params[4 * c + 2] = gamma * invstd;
    params[4 * c + 3] = beta;
}

// gamma and beta may be null (no affine): 1 and 0. update = 0 skips the running statistics.
// new_weight is w of running = (1 - w) * running + w * batch; variance_scale is m / (m - 1) for
// the unbiased estimator, 1 for the biased one. shift_stride locates the value each channel's
// statistics were shifted by: x[c * shift_stride] (H*W for NCHW, 1 for channels-last).
extern "C" __global__ void bn_finalize(const float* __restrict__ partial_count,
                                       const float* __restrict__ partial_mean,
                                       const float* __restrict__ partial_m2, long long blocks_per_channel,
                                       long long channels, const float* __restrict__ x, long long shift_stride,
                                       double eps, const float* __restrict__ gamma,
                                       const float* __restrict__ beta, int update, double new_weight,
                                       double variance_scale, float* __restrict__ running_mean,
                                       float* __restrict__ running_var, double* __restrict__ saved_mean,
                                       float* __restrict__ saved_invstd, float* __restrict__ params,
                                       double* __restrict__ scratch, int* __restrict__ status) {
    __shared__ int first_bad;         // channel with non-finite batch statistics
    __shared__ int first_overflow;    // channel whose running statistics would overflow
    if (threadIdx.x == 0) {
        first_bad = 0x7fffffff;
        first_overflow = 0x7fffffff;
    }
    __syncthreads();
    // Pass 1: statistics into scratch (4 doubles per channel: mean, invstd, next mean, next var).
    for (long long c = threadIdx.x; c < channels; c += blockDim.x) {
        double count = 0.0, mean = 0.0, m2 = 0.0;
        for (long long b = 0; b < blocks_per_channel; b++) {
            long long slot = c * blocks_per_channel + b;
            double nb = partial_count[slot];
            double total = count + nb;
            if (nb > 0.0) {
                double delta = (double)partial_mean[slot] - mean;
                double weight_b = nb / total;
                mean += delta * weight_b;
                m2 += (double)partial_m2[slot] + delta * delta * count * weight_b;
            }
            count = total;
        }
        double variance = fmax(m2, 0.0) / count;
        double batch_mean = (double)x[c * shift_stride] + mean;
        float invstd = (float)(1.0 / sqrt(variance + eps));
        write_params(params, c, batch_mean, invstd, gamma ? gamma[c] : 1.0f, beta ? beta[c] : 0.0f);
        float next_mean = 0.0f, next_var = 0.0f;
        if (update) {
            next_mean = (float)((1.0 - new_weight) * running_mean[c] + new_weight * batch_mean);
            next_var = (float)((1.0 - new_weight) * running_var[c] + new_weight * (variance * variance_scale));
        }
        if (!(isfinite(batch_mean) && isfinite(variance) && isfinite(invstd))) {
            atomicMin(&first_bad, (int)c);
        } else if (!(isfinite(next_mean) && isfinite(next_var))) {
            atomicMin(&first_overflow, (int)c);
        }
        scratch[4 * c] = batch_mean;
        scratch[4 * c + 1] = invstd;
        scratch[4 * c + 2] = next_mean;
        scratch[4 * c + 3] = next_var;
    }
    __syncthreads();
    int bad = first_bad;
    int overflow = first_overflow;
    // Pass 2: commit, all or nothing.
    if (bad == 0x7fffffff && overflow == 0x7fffffff) {
        for (long long c = threadIdx.x; c < channels; c += blockDim.x) {
            saved_mean[c] = scratch[4 * c];
            saved_invstd[c] = (float)scratch[4 * c + 1];
            if (update) {
                running_mean[c] = (float)scratch[4 * c + 2];
                running_var[c] = (float)scratch[4 * c + 3];
            }
        }
    }
    if (threadIdx.x == 0) {
        status[0] = bad != 0x7fffffff ? 1 + bad : overflow != 0x7fffffff ? -(1 + overflow) : 0;
    }
}

extern "C" __global__ void bn_running_params(const float* __restrict__ running_mean,
                                             const float* __restrict__ running_var, long long channels,
                                             double eps, const float* __restrict__ gamma,
                                             const float* __restrict__ beta, double* __restrict__ saved_mean,
                                             float* __restrict__ saved_invstd, float* __restrict__ params) {
    for (long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x; c < channels;
         c += (long long)gridDim.x * blockDim.x) {
        float invstd = (float)(1.0 / sqrt((double)running_var[c] + eps));
        saved_mean[c] = running_mean[c];
        saved_invstd[c] = invstd;
        write_params(params, c, running_mean[c], invstd, gamma ? gamma[c] : 1.0f, beta ? beta[c] : 0.0f);
    }
}

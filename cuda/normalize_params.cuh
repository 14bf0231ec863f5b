// The normalization parameters of one channel, as the normalize kernels read them:
// 4 floats per channel, mean_hi, mean_lo (mean = hi + lo), scale = gamma * invstd, shift = beta;
// bn_normalize_* compute ((x - mean_hi) - mean_lo) * scale + shift. Written by the statistics
// kernels' finishing step (training) and by bn_running_params (inference).
#pragma once

__device__ __forceinline__ void write_params(float* params, long long c, double mean, float invstd,
                                             float gamma, float beta) {
    float hi = (float)mean;
    params[4 * c] = hi;
    params[4 * c + 1] = (float)(mean - (double)hi);
    params[4 * c + 2] = gamma * invstd;
    params[4 * c + 3] = beta;
}

// The normalization parameters of one channel, as the normalize kernels read them: mean_hi,
// mean_lo (mean = hi + lo), scale = gamma * invstd, shift = beta; bn_normalize_* compute
// ((x - mean_hi) - mean_lo) * scale + shift. Written by the statistics kernels' finishing step
// (training) and by bn_running_params (inference), in one of two layouts:
//   planar = 0  a float4 per channel, for the channels-first kernels, where a warp mostly shares
//               one channel and one 16-byte load gives all four;
//   planar = 1  four planes of C floats, for the channels-last kernels, where consecutive threads
//               take consecutive channels: each plane is then read in whole sectors (a float4 per
//               channel read four channels at a time strides 64 bytes and wastes half of each).
#pragma once

#include "launch_constants.cuh"  // PARAMS_PER_CHANNEL and each parameter's place

// make_float4 and .x .. .w below take the parameters in this order.
static_assert(PARAMS_PER_CHANNEL == 4 && PARAM_MEAN_HI == 0 && PARAM_MEAN_LO == 1 && PARAM_SCALE == 2 &&
                  PARAM_SHIFT == 3,
              "a channel's parameters are one float4: (mean_hi, mean_lo, scale, shift)");

__device__ __forceinline__ void write_params(float* params, long long c, long long channels, int planar,
                                             double mean, float invstd, float gamma, float beta) {
    float hi = (float)mean;
    float lo = (float)(mean - (double)hi);
    if (planar) {
        params[PARAM_MEAN_HI * channels + c] = hi;
        params[PARAM_MEAN_LO * channels + c] = lo;
        params[PARAM_SCALE * channels + c] = gamma * invstd;
        params[PARAM_SHIFT * channels + c] = beta;
    } else {
        // One 16-byte store, so a warp's threads (one channel each) write whole sectors.
        reinterpret_cast<float4*>(params)[c] = make_float4(hi, lo, gamma * invstd, beta);
    }
}

// Channel c's parameters from the planar layout.
__device__ __forceinline__ float4 planar_params(const float* __restrict__ params, long long c, long long channels) {
    return make_float4(params[PARAM_MEAN_HI * channels + c], params[PARAM_MEAN_LO * channels + c],
                       params[PARAM_SCALE * channels + c], params[PARAM_SHIFT * channels + c]);
}

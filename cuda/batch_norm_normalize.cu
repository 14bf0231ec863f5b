// Normalization, the last step of a forward (training or inference):
// y = ((x - mean_hi) - mean_lo) * scale + shift, with per-channel params (normalize_params.cuh)
// from the statistics kernels' finishing step (finalize_statistics.cuh) or, in inference, from
// bn_running_params. x and y may be the same memory.
//
//   bn_running_params           inference: params, saved mean and 1/sqrt(running var + eps) of
//                               each channel from the running statistics; grid-stride over
//                               channels
//   bn_normalize_nchw           channels-first: grid-stride over (run = n * C + c, position)
//                               pairs; float4 loads when H*W % 4 == 0 (the host passes
//                               vector = 1) and x, y are 16-byte aligned, scalar otherwise
//   bn_normalize_channels_last  rows of C values: grid-stride over elements; float4 when
//                               C % 4 == 0 and x, y are 16-byte aligned

#include "normalize_params.cuh"
#include "fast_divide.cuh"
#include "vector_access.cuh"

__device__ __forceinline__ float normalize_one(float v, float4 p) {
    return ((v - p.x) - p.y) * p.z + p.w;
}

extern "C" __global__ void bn_normalize_nchw(const float* x, float* y, long long runs, long long channels,
                                             long long spatial, const float4* __restrict__ params, int vector,
                                             long long spatial_multiplier, int spatial_log,
                                             long long channels_multiplier, int channels_log) {
    vector = vector && aligned16(x) && aligned16(y);
    FastDivide by_spatial = fast_divide(spatial_multiplier, spatial_log);
    FastDivide by_channels = fast_divide(channels_multiplier, channels_log);
    int per_item = vector ? 4 : 1;
    long long total = runs * (vector ? spatial >> 2 : spatial);
    // Not unrolled: nvcc would divide to count the trips of an unrolled grid-stride loop.
#pragma unroll 1
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        long long run = fast_quotient(i * per_item, by_spatial); // 4i / spatial = i / (spatial / 4) when vector
        float4 p = params[fast_remainder(run, by_channels, channels)];
        if (vector) {
            float4 v = reinterpret_cast<const float4*>(x)[i];
            v.x = normalize_one(v.x, p);
            v.y = normalize_one(v.y, p);
            v.z = normalize_one(v.z, p);
            v.w = normalize_one(v.w, p);
            reinterpret_cast<float4*>(y)[i] = v;
        } else {
            y[i] = normalize_one(x[i], p);
        }
    }
}

extern "C" __global__ void bn_normalize_channels_last(const float* x, float* y, long long total,
                                                      long long channels, const float* __restrict__ params,
                                                      int vector, long long channels_multiplier,
                                                      int channels_log) {
    vector = vector && aligned16(x) && aligned16(y);
    FastDivide by_channels = fast_divide(channels_multiplier, channels_log);
    long long count = vector ? total / 4 : total;
    // Not unrolled: nvcc would divide to count the trips of an unrolled grid-stride loop.
#pragma unroll 1
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
         i += (long long)gridDim.x * blockDim.x) {
        if (vector) {
            long long c = fast_remainder(i * 4, by_channels, channels);
            float4 v = reinterpret_cast<const float4*>(x)[i];
            // Channels c..c+3 from each plane at once (C % 4 == 0, so every plane is 16-byte aligned).
            float4 hi = *reinterpret_cast<const float4*>(params + c);
            float4 lo = *reinterpret_cast<const float4*>(params + channels + c);
            float4 scale = *reinterpret_cast<const float4*>(params + 2 * channels + c);
            float4 shift = *reinterpret_cast<const float4*>(params + 3 * channels + c);
            v.x = normalize_one(v.x, make_float4(hi.x, lo.x, scale.x, shift.x));
            v.y = normalize_one(v.y, make_float4(hi.y, lo.y, scale.y, shift.y));
            v.z = normalize_one(v.z, make_float4(hi.z, lo.z, scale.z, shift.z));
            v.w = normalize_one(v.w, make_float4(hi.w, lo.w, scale.w, shift.w));
            reinterpret_cast<float4*>(y)[i] = v;
        } else {
            y[i] = normalize_one(x[i], planar_params(params, fast_remainder(i, by_channels, channels), channels));
        }
    }
}

extern "C" __global__ void bn_running_params(const float* __restrict__ running_mean,
                                             const float* __restrict__ running_var, long long channels,
                                             double eps, const float* __restrict__ gamma,
                                             const float* __restrict__ beta, double* __restrict__ saved_mean,
                                             float* __restrict__ saved_invstd, float* __restrict__ params,
                                             int planar) {
    // Not unrolled: nvcc would divide to count the trips.
#pragma unroll 1
    for (long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x; c < channels;
         c += (long long)gridDim.x * blockDim.x) {
        float invstd = (float)(1.0 / sqrt((double)running_var[c] + eps));
        saved_mean[c] = running_mean[c];
        saved_invstd[c] = invstd;
        write_params(params, c, channels, planar, running_mean[c], invstd, gamma ? gamma[c] : 1.0f,
                     beta ? beta[c] : 0.0f);
    }
}

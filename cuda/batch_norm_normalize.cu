// Normalization, the last step of a forward (training or inference):
// y = ((x - mean_hi) - mean_lo) * scale + shift, with per-channel parameters that come from one
// of two places (from_running):
//   0  params (normalize_params.cuh), written by the statistics kernels' finishing step
//      (finalize_statistics.cuh): a training forward, or inference without running statistics;
//   1  the running statistics themselves: mean_hi = running_mean, mean_lo = 0,
//      scale = gamma * running_invstd, shift = beta (gamma, beta may be null: 1 and 0). An
//      inference forward is then this one launch. running_invstd = 1/sqrt(running_var + eps) is
//      kept by whoever writes running_var (the finishing step, the host's setters), never by
//      an optimizer, which writes gamma and beta only: so parameters read here are never stale.
// A training forward's normalize also commits its statistics (commit = 1: commit_statistics in
// layer_record.cuh), so a call whose second launch the driver refuses changes nothing.
// x and y may be the same memory.
//
//   bn_normalize_nchw           channels-first: grid-stride over warp chunks of
//                               32 x NCHW_ITEMS_PER_LANE items ((run = n * C + c, position)
//                               pairs, consecutive); float4 loads when H*W % 4 == 0 (the host
//                               passes vector = 1) and x, y are 16-byte aligned, scalar otherwise
//   bn_normalize_channels_last  rows of C values: grid-stride over elements; float4 when
//                               C % 4 == 0 and x, y are 16-byte aligned

#include "launch_constants.cuh"  // NCHW_ITEMS_PER_LANE
#include "layer_record.cuh"
#include "normalize_params.cuh"
#include "fast_divide.cuh"
#include "vector_access.cuh"

// The scale and shift in one rounding: fused as written (the PTX is built with -fmad=false,
// scripts/build-ptx, so nothing else is).
__device__ __forceinline__ float normalize_one(float v, float4 p) {
    return __fmaf_rn((v - p.x) - p.y, p.z, p.w);
}

// The per-channel state an inference forward normalizes with (from_running = 1).
// Not __restrict__: in a training forward the same buffers are written by the commit.
struct RunningSource {
    const float* mean;
    const float* invstd;
    const float* __restrict__ gamma;
    const float* __restrict__ beta;
};

// Channel c's parameters from the running statistics, as bn_running_params wrote them before:
// scale = gamma * invstd in float, so training-time and inference-time parameters round alike.
__device__ __forceinline__ float4 running_params(RunningSource r, long long c) {
    return make_float4(r.mean[c], 0.0f, (r.gamma ? r.gamma[c] : 1.0f) * r.invstd[c], r.beta ? r.beta[c] : 0.0f);
}

extern "C" __global__ void bn_normalize_nchw(const float* x, float* y, long long runs, long long channels,
                                             long long spatial, const float4* __restrict__ params, int vector,
                                             long long spatial_multiplier, int spatial_log,
                                             long long channels_multiplier, int channels_log, int from_running,
                                             const float* running_mean, const float* running_invstd,
                                             const float* __restrict__ gamma, const float* __restrict__ beta,
                                             int commit, int update,
                                             const double* __restrict__ scratch, double* __restrict__ saved_mean,
                                             float* __restrict__ saved_invstd, float* commit_running_mean,
                                             float* __restrict__ running_var, float* commit_running_invstd,
                                             long long* __restrict__ counters, int renorm,
                                             float* __restrict__ saved_renorm) {
    RunningSource source = {running_mean, running_invstd, gamma, beta};
    if (commit) {
        commit_statistics(scratch, channels, update, saved_mean, saved_invstd, commit_running_mean, running_var,
                          commit_running_invstd, counters, renorm, saved_renorm,
                          blockIdx.x * (long long)blockDim.x + threadIdx.x,
                          (long long)gridDim.x * blockDim.x);
    }
    vector = vector && aligned16(x) && aligned16(y);
    FastDivide by_spatial = fast_divide(spatial_multiplier, spatial_log);
    FastDivide by_channels = fast_divide(channels_multiplier, channels_log);
    int per_item = vector ? 4 : 1;
    long long total = runs * (vector ? spatial >> 2 : spatial);
    int lane = threadIdx.x & 31;
    long long chunk = 32 * NCHW_ITEMS_PER_LANE;
    long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    // Grid-stride over warp chunks (warp-uniform: every lane has the same base). Not unrolled:
    // nvcc would divide to count the trips of an unrolled grid-stride loop.
#pragma unroll 1
    for (long long base = ((blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5) * chunk; base < total;
         base += warps * chunk) {
        long long last = min(base + chunk, total) - 1;
        long long first_run = fast_quotient(base * per_item, by_spatial);
        long long span = fast_quotient(last * per_item, by_spatial) - first_run + 1;
        // Staged: lane j holds run first_run + j's parameters, read in one coalesced request per
        // array, and the chunk's items take theirs by shuffle; unstaged (planes so small that the
        // chunk spans more than 32 runs), each item reads its own.
        bool staged = span <= 32;
        float4 mine = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        if (staged && lane < span) {
            long long c = fast_remainder(first_run + lane, by_channels, channels);
            mine = from_running ? running_params(source, c) : params[c];
        }
#pragma unroll 1
        for (int k = 0; k < NCHW_ITEMS_PER_LANE; k++) {
            long long i = base + k * 32 + lane;
            bool valid = i <= last;
            long long run = fast_quotient((valid ? i : last) * per_item, by_spatial); // 4i / spatial = i / (spatial / 4) when vector
            float4 p;
            if (staged) {
                int from = (int)(run - first_run);
                p = make_float4(__shfl_sync(0xffffffffu, mine.x, from), __shfl_sync(0xffffffffu, mine.y, from),
                                __shfl_sync(0xffffffffu, mine.z, from), __shfl_sync(0xffffffffu, mine.w, from));
            } else {
                long long c = fast_remainder(run, by_channels, channels);
                p = valid ? (from_running ? running_params(source, c) : params[c]) : mine;
            }
            if (!valid) {
                continue;
            }
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
}

extern "C" __global__ void bn_normalize_channels_last(const float* x, float* y, long long total,
                                                      long long channels, const float* __restrict__ params,
                                                      int vector, long long channels_multiplier,
                                                      int channels_log, int from_running,
                                                      const float* running_mean, const float* running_invstd,
                                                      const float* __restrict__ gamma,
                                                      const float* __restrict__ beta, int commit, int update,
                                             const double* __restrict__ scratch, double* __restrict__ saved_mean,
                                             float* __restrict__ saved_invstd, float* commit_running_mean,
                                             float* __restrict__ running_var, float* commit_running_invstd,
                                             long long* __restrict__ counters, int renorm,
                                             float* __restrict__ saved_renorm) {
    RunningSource source = {running_mean, running_invstd, gamma, beta};
    if (commit) {
        commit_statistics(scratch, channels, update, saved_mean, saved_invstd, commit_running_mean, running_var,
                          commit_running_invstd, counters, renorm, saved_renorm,
                          blockIdx.x * (long long)blockDim.x + threadIdx.x,
                          (long long)gridDim.x * blockDim.x);
    }
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
            float4 hi, lo, scale, shift;
            if (from_running) {
                hi = *reinterpret_cast<const float4*>(running_mean + c);
                lo = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
                float4 invstd = *reinterpret_cast<const float4*>(running_invstd + c);
                float4 g = gamma ? *reinterpret_cast<const float4*>(gamma + c) : make_float4(1.0f, 1.0f, 1.0f, 1.0f);
                scale = make_float4(g.x * invstd.x, g.y * invstd.y, g.z * invstd.z, g.w * invstd.w);
                shift = beta ? *reinterpret_cast<const float4*>(beta + c) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            } else {
                hi = *reinterpret_cast<const float4*>(params + PARAM_MEAN_HI * channels + c);
                lo = *reinterpret_cast<const float4*>(params + PARAM_MEAN_LO * channels + c);
                scale = *reinterpret_cast<const float4*>(params + PARAM_SCALE * channels + c);
                shift = *reinterpret_cast<const float4*>(params + PARAM_SHIFT * channels + c);
            }
            v.x = normalize_one(v.x, make_float4(hi.x, lo.x, scale.x, shift.x));
            v.y = normalize_one(v.y, make_float4(hi.y, lo.y, scale.y, shift.y));
            v.z = normalize_one(v.z, make_float4(hi.z, lo.z, scale.z, shift.z));
            v.w = normalize_one(v.w, make_float4(hi.w, lo.w, scale.w, shift.w));
            reinterpret_cast<float4*>(y)[i] = v;
        } else {
            long long c = fast_remainder(i, by_channels, channels);
            y[i] = normalize_one(x[i], from_running ? running_params(source, c) : planar_params(params, c, channels));
        }
    }
}

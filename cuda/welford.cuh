// Shared device helpers for batchnorm4j's kernels.
//
//   Welford            (count, mean, M2) of a set of values
//   welford_push       adds one value to a Welford state
//   welford_merge      Chan's merge of two states; safe when either or both counts are 0
//   warp_welford       merges the states of a warp's lanes (shuffle), result in every lane
//   block_welford      merges the states of a block (warp shuffle, one barrier, fold the warps)
//   warp_sum, block_sum2  the same two-level reduction for a pair of fp64 sums
//
// Statistics are taken of values shifted by one value of the channel (see the kernels), so the
// fp32 mean stays small and exact enough for data with a large mean.
//
// The PTX is built with -fmad=false (scripts/build-ptx), so nothing is contracted behind the
// source's back: the multiply-adds of the Welford update and of Chan's merge are fused where
// written (__fmaf_rn), one rounding for the product and the sum.
#pragma once

#include "launch_constants.cuh"

struct Welford {
    float count;
    float mean;
    float m2;
};

__device__ __forceinline__ void welford_push(Welford& w, float value) {
    w.count += 1.0f;
    float delta = value - w.mean;
    w.mean += delta / w.count;
    w.m2 = __fmaf_rn(delta, value - w.mean, w.m2);
}

__device__ __forceinline__ Welford welford_merge(Welford a, Welford b) {
    float count = a.count + b.count;
    if (count == 0.0f) {
        return a;
    }
    float weight_b = b.count / count;
    float delta = b.mean - a.mean;
    Welford r;
    r.count = count;
    r.mean = __fmaf_rn(delta, weight_b, a.mean);
    r.m2 = __fmaf_rn(delta * delta * a.count, weight_b, a.m2 + b.m2);
    return r;
}

__device__ __forceinline__ Welford warp_welford(Welford w) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        Welford other;
        other.count = __shfl_xor_sync(0xffffffffu, w.count, offset);
        other.mean = __shfl_xor_sync(0xffffffffu, w.mean, offset);
        other.m2 = __shfl_xor_sync(0xffffffffu, w.m2, offset);
        w = welford_merge(w, other);
    }
    return w;
}

// The block reductions shuffle with all 32 lanes and keep a slot for each of at most 32 warps.
static_assert(BLOCK_THREADS % 32 == 0 && BLOCK_THREADS <= 32 * 32,
              "block_welford and block_sum2 take whole warps, at most 32 of them");

// Every thread of the block must call it; the result is valid in thread 0.
// The order of merges is fixed by the thread layout, so results are deterministic.
__device__ __forceinline__ Welford block_welford(Welford w) {
    __shared__ Welford warp_results[32];
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    int warps = (blockDim.x + 31) >> 5;
    w = warp_welford(w);
    __syncthreads(); // warp_results may still be read by a previous call
    if (lane == 0) {
        warp_results[warp] = w;
    }
    __syncthreads();
    if (warp == 0) {
        Welford empty = {0.0f, 0.0f, 0.0f};
        w = lane < warps ? warp_results[lane] : empty;
        w = warp_welford(w);
    }
    return w;
}

__device__ __forceinline__ double warp_sum(double v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

// Sums a pair over the block; every thread must call it; valid in thread 0.
__device__ __forceinline__ void block_sum2(double& a, double& b) {
    __shared__ double warp_a[32];
    __shared__ double warp_b[32];
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    int warps = (blockDim.x + 31) >> 5;
    a = warp_sum(a);
    b = warp_sum(b);
    __syncthreads();
    if (lane == 0) {
        warp_a[warp] = a;
        warp_b[warp] = b;
    }
    __syncthreads();
    if (warp == 0) {
        a = warp_sum(lane < warps ? warp_a[lane] : 0.0);
        b = warp_sum(lane < warps ? warp_b[lane] : 0.0);
    }
}

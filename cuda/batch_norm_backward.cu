// Backward: per-channel sums with their finish, then dx.
//
//   bn_backward_sums_nchw            partial sum(dy) and sum(dy * (x - mean)) of channel c over
//                                    the same blocks as bn_statistics_nchw; fp64 per thread; the
//                                    grid's last block finishes (finalize_backward.cuh)
//   bn_backward_sums_channels_last   the same over row blocks, as bn_statistics_channels_last
//   bn_backward_apply_nchw           dx = k * dy - kc * (x - mean) - k0, grid-stride as
//                                    bn_normalize_nchw
//   bn_backward_apply_channels_last  dx for rows of C values
//
// The apply kernels commit the gamma and beta gradients (commit = 1 for an affine layer:
// commit_gradients in layer_record.cuh), so a call whose second launch fails changes nothing.
// mean (= mean_hi + mean_lo in params) and 1/sqrt(var + eps) are those of the latest forward.
// dx may be the same memory as dy. The formulas are the CPU path's (CpuBackward.prepareGradient).
// After a Batch Renormalization forward (renorm = 1) its r and d (saved_renorm) are constants.
//
// Arithmetic as written (the PTX is built with -fmad=false, scripts/build-ptx): sum(dy * (x - mean))
// accumulates by fused multiply-add (__fma_rn), as the CPU path's gradient sums do (Math.fma), and
// grad_one fuses its k * dy (below).
#include "fast_divide.cuh"
#include "finalize_backward.cuh"
#include "last_block.cuh"
#include "launch_constants.cuh"
#include "normalize_params.cuh"
#include "vector_access.cuh"
#include "welford.cuh"

extern "C" __global__ void bn_backward_sums_nchw(const float* __restrict__ x, const float* __restrict__ dy,
                                                 long long channels, long long spatial, long long per_channel,
                                                 long long per_block, int reduce, int batch_terms, int from_running, int affine,
                                                 int renorm,
                                                 const double* __restrict__ saved_mean,
                                                 const float* __restrict__ running_mean,
                                                 const float* __restrict__ invstd,
                                                 const float* __restrict__ saved_renorm,
                                                 const float* __restrict__ gamma, double* partial_dy,
                                                 double* partial_dyx, float* __restrict__ params,
                                                 float4* __restrict__ coefficients, float* __restrict__ scratch,
                                                 long long* __restrict__ counters, long long* failure,
                                                 unsigned int* __restrict__ blocks_done) {
    GradientSource source = {saved_mean, running_mean, invstd, from_running, saved_renorm, renorm};
    long long c = blockIdx.y;
    long long b = blockIdx.x;
    long long start = reduce ? b * per_block : per_channel; // reduce = 0: no sums, only the finish
    long long end = min(per_channel, start + per_block);
    double mean = source_mean(source, c);
    double sum_dy = 0.0, sum_dyx = 0.0;
    // As in bn_statistics_nchw: only the first run may start inside a plane.
    long long n = first_plane(start, spatial);
    long long s = start - n * spatial;
    for (long long p = start; p < end; n++, s = 0) {
        long long len = min(spatial - s, end - p);
        long long base = (n * channels + c) * spatial + s;
        for (long long i = threadIdx.x; i < len; i += blockDim.x) {
            double g = dy[base + i];
            sum_dy += g;
            sum_dyx = __fma_rn(g, (double)x[base + i] - mean, sum_dyx);
        }
        p += len;
    }
    block_sum2(sum_dy, sum_dyx);
    if (threadIdx.x == 0 && reduce) {
        long long slot = b * channels + c; // block-major (batch_norm_statistics.cu's head)
        partial_dy[slot] = sum_dy;
        partial_dyx[slot] = sum_dyx;
    }
    if (last_block_to_finish(blocks_done)) {
        finalize_backward(partial_dy, partial_dyx,
                          GradientArguments{gridDim.x, channels, per_channel, batch_terms, reduce, 0, affine}, source, gamma,
                          params, coefficients, scratch, counters, failure, threadIdx.x,
                          blockDim.x);
    }
}

extern "C" __global__ void bn_backward_sums_channels_last(const float* __restrict__ x, const float* __restrict__ dy,
                                                          long long rows, long long channels, long long rows_per_block,
                                                          int reduce, int batch_terms, int from_running, int affine,
                                                          int renorm,
                                                          const double* __restrict__ saved_mean,
                                                          const float* __restrict__ running_mean,
                                                          const float* __restrict__ invstd,
                                                          const float* __restrict__ saved_renorm,
                                                          const float* __restrict__ gamma, double* partial_dy,
                                                          double* partial_dyx, float* __restrict__ params,
                                                          float4* __restrict__ coefficients, float* __restrict__ scratch,
                                                          long long* __restrict__ counters, long long* failure,
                                                          unsigned int* __restrict__ blocks_done) {
    GradientSource source = {saved_mean, running_mean, invstd, from_running, saved_renorm, renorm};
    // [y][x], as bn_statistics_channels_last's column
    __shared__ double column_dy[1024 / CHANNELS_LAST_TILE_CHANNELS][CHANNELS_LAST_TILE_CHANNELS + 1];
    __shared__ double column_dyx[1024 / CHANNELS_LAST_TILE_CHANNELS][CHANNELS_LAST_TILE_CHANNELS + 1];
    long long c = (long long)blockIdx.y * CHANNELS_LAST_TILE_CHANNELS + threadIdx.x;
    long long b = blockIdx.x;
    long long start = reduce ? b * rows_per_block : rows; // reduce = 0: no sums, only the finish
    long long end = min(rows, start + rows_per_block);
    double sum_dy = 0.0, sum_dyx = 0.0;
    if (c < channels) {
        double mean = source_mean(source, c);
        // Four rows per trip, summed in row order (as bn_statistics_channels_last, for the same reason).
        long long r = start + threadIdx.y;
        long long step = blockDim.y;
#pragma unroll 1
        for (; r + 3 * step < end; r += 4 * step) {
            double g0 = dy[r * channels + c], g1 = dy[(r + step) * channels + c];
            double g2 = dy[(r + 2 * step) * channels + c], g3 = dy[(r + 3 * step) * channels + c];
            double v0 = x[r * channels + c], v1 = x[(r + step) * channels + c];
            double v2 = x[(r + 2 * step) * channels + c], v3 = x[(r + 3 * step) * channels + c];
            sum_dy += g0;
            sum_dyx = __fma_rn(g0, v0 - mean, sum_dyx);
            sum_dy += g1;
            sum_dyx = __fma_rn(g1, v1 - mean, sum_dyx);
            sum_dy += g2;
            sum_dyx = __fma_rn(g2, v2 - mean, sum_dyx);
            sum_dy += g3;
            sum_dyx = __fma_rn(g3, v3 - mean, sum_dyx);
        }
#pragma unroll 1
        for (; r < end; r += step) {
            double g = dy[r * channels + c];
            sum_dy += g;
            sum_dyx = __fma_rn(g, (double)x[r * channels + c] - mean, sum_dyx);
        }
    }
    column_dy[threadIdx.y][threadIdx.x] = sum_dy;
    column_dyx[threadIdx.y][threadIdx.x] = sum_dyx;
    __syncthreads();
    if (threadIdx.y == 0 && c < channels && reduce) {
        for (int y = 1; y < blockDim.y; y++) {
            sum_dy += column_dy[y][threadIdx.x];
            sum_dyx += column_dyx[y][threadIdx.x];
        }
        long long slot = b * channels + c; // block-major (batch_norm_statistics.cu's head)
        partial_dy[slot] = sum_dy;
        partial_dyx[slot] = sum_dyx;
    }
    if (last_block_to_finish(blocks_done)) {
        finalize_backward(partial_dy, partial_dyx,
                          GradientArguments{gridDim.x, channels, rows, batch_terms, reduce, 1, affine}, source, gamma,
                          params, coefficients, scratch, counters, failure,
                          threadIdx.y * blockDim.x + threadIdx.x, blockDim.x * blockDim.y);
    }
}

// dx = k * dy - kc * (x - mean) - k0 with k * dy, the dominant term, exact inside a fused
// multiply-add and only the centred term rounded: nearer the fp64 gradient than rounding both
// products (or fusing the centred one instead). At inference kc = k0 = 0 and dx = k * dy either way.
__device__ __forceinline__ float grad_one(float g, float v, float4 p, float4 k) {
    return __fmaf_rn(k.x, g, -(k.y * ((v - p.x) - p.y))) - k.z;
}

extern "C" __global__ void bn_backward_apply_nchw(const float* x, const float* dy, float* dx, long long runs,
                                                  long long channels, long long spatial,
                                                  const float4* __restrict__ params,
                                                  const float4* __restrict__ coefficients, int vector,
                                                  long long spatial_multiplier, int spatial_log,
                                                  long long channels_multiplier, int channels_log, int commit,
                                                  const float* __restrict__ scratch,
                                                  float* __restrict__ gamma_grad, float* __restrict__ beta_grad,
                                                  const long long* __restrict__ counters) {
    if (commit) {
        commit_gradients(scratch, channels, gamma_grad, beta_grad, counters,
                         blockIdx.x * (long long)blockDim.x + threadIdx.x, (long long)gridDim.x * blockDim.x);
    }
    vector = vector && aligned16(x) && aligned16(dy) && aligned16(dx);
    FastDivide by_spatial = fast_divide(spatial_multiplier, spatial_log);
    FastDivide by_channels = fast_divide(channels_multiplier, channels_log);
    int per_item = vector ? 4 : 1;
    long long total = runs * (vector ? spatial >> 2 : spatial);
    // Not unrolled: nvcc would divide to count the trips of an unrolled grid-stride loop.
#pragma unroll 1
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        long long c = fast_remainder(fast_quotient(i * per_item, by_spatial), by_channels, channels);
        float4 p = params[c];
        float4 k = coefficients[c];
        if (vector) {
            float4 v = reinterpret_cast<const float4*>(x)[i];
            float4 g = reinterpret_cast<const float4*>(dy)[i];
            float4 r;
            r.x = grad_one(g.x, v.x, p, k);
            r.y = grad_one(g.y, v.y, p, k);
            r.z = grad_one(g.z, v.z, p, k);
            r.w = grad_one(g.w, v.w, p, k);
            reinterpret_cast<float4*>(dx)[i] = r;
        } else {
            dx[i] = grad_one(dy[i], x[i], p, k);
        }
    }
}

extern "C" __global__ void bn_backward_apply_channels_last(const float* x, const float* dy, float* dx, long long total,
                                                           long long channels, const float* __restrict__ params,
                                                           const float4* __restrict__ coefficients,
                                                           long long channels_multiplier, int channels_log,
                                                           int commit, const float* __restrict__ scratch,
                                                           float* __restrict__ gamma_grad, float* __restrict__ beta_grad,
                                                           const long long* __restrict__ counters) {
    if (commit) {
        commit_gradients(scratch, channels, gamma_grad, beta_grad, counters,
                         blockIdx.x * (long long)blockDim.x + threadIdx.x, (long long)gridDim.x * blockDim.x);
    }
    FastDivide by_channels = fast_divide(channels_multiplier, channels_log);
    // Not unrolled: nvcc would divide to count the trips of an unrolled grid-stride loop.
#pragma unroll 1
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        long long c = fast_remainder(i, by_channels, channels);
        dx[i] = grad_one(dy[i], x[i], planar_params(params, c, channels), coefficients[c]);
    }
}

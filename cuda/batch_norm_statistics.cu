// Batch statistics, step 1 of a training forward: partial Welford states of each channel, then,
// in the grid's last block to finish, the finishing step (finalize_statistics.cuh) over them.
//
//   bn_statistics_nchw            channels-first (NCHW with H*W > 1): grid (blocks per channel, C),
//                                 1-D blocks of a multiple of 32 threads; block b of channel c
//                                 covers values [b * per_block, (b + 1) * per_block) of the
//                                 channel, counted in memory order (n * HW + hw)
//   bn_statistics_channels_last   NC, NHWC (and NCHW with H*W = 1): rows of C values; grid
//                                 (row blocks, ceil(C / CHANNELS_LAST_TILE_CHANNELS)), blocks
//                                 (CHANNELS_LAST_TILE_CHANNELS, rows per block step); lane x is
//                                 a channel, so a warp reads 32 neighbouring channels of one row
//
// Both write partial (count, mean, M2) of channel c, block b at [b * channels + c], block-major,
// so that the finishing step (a thread per channel) reads neighbouring channels together, in
// whole sectors; finalize_statistics merges each channel's partials in block order. (The
// backward's partial sums use the same layout.) Values are shifted by the channel's first value
// (x at n = 0, hw = 0), which keeps fp32 accurate for large means. The parameters after the
// partials are finalize_statistics' (blocks_done: 0 before each launch, see last_block_to_finish).
#include "fast_divide.cuh"
#include "finalize_statistics.cuh"
#include "launch_constants.cuh"
#include "welford.cuh"

extern "C" __global__ void bn_statistics_nchw(const float* __restrict__ x, long long channels, long long spatial,
                                              long long per_channel, long long per_block,
                                              float* partial_count, float* partial_mean, float* partial_m2,
                                              double eps, const float* __restrict__ gamma,
                                              const float* __restrict__ beta, int update, int weight_mode,
                                              double momentum, double decay, double variance_scale,
                                              int renorm, double renorm_rmax, double renorm_dmax,
                                              const float* __restrict__ running_mean,
                                              const float* __restrict__ running_var, float* __restrict__ params,
                                              double* __restrict__ scratch, long long* __restrict__ counters,
                                              long long* failure, unsigned int* __restrict__ blocks_done) {
    long long c = blockIdx.y;
    long long b = blockIdx.x;
    long long start = b * per_block;
    long long end = min(per_channel, start + per_block);
    float shift = x[c * spatial];
    Welford w = {0.0f, 0.0f, 0.0f};
    // Walk the channel's runs of H*W values; each thread takes every blockDim-th value of a run.
    // Only the first run may start inside a plane: one division per block, none per run.
    long long n = first_plane(start, spatial);
    long long s = start - n * spatial;
    for (long long p = start; p < end; n++, s = 0) {
        long long len = min(spatial - s, end - p);
        const float* run = x + (n * channels + c) * spatial + s;
        for (long long i = threadIdx.x; i < len; i += blockDim.x) {
            welford_push(w, run[i] - shift);
        }
        p += len;
    }
    w = block_welford(w);
    if (threadIdx.x == 0) {
        long long slot = b * channels + c; // block-major (batch_norm_statistics.cu's head)
        partial_count[slot] = w.count;
        partial_mean[slot] = w.mean;
        partial_m2[slot] = w.m2;
    }
    if (last_block_to_finish(blocks_done)) {
        finalize_statistics(partial_count, partial_mean, partial_m2, gridDim.x, channels, x, spatial,
                            FinalizeArguments{eps, weight_mode, momentum, decay, variance_scale, update, 0, renorm,
                                              renorm_rmax, renorm_dmax}, gamma, beta,
                            running_mean, running_var, params, scratch,
                            counters, failure, threadIdx.x, blockDim.x);
    }
}

extern "C" __global__ void bn_statistics_channels_last(const float* __restrict__ x, long long rows, long long channels,
                                                       long long rows_per_block, float* partial_count,
                                                       float* partial_mean, float* partial_m2,
                                                       double eps, const float* __restrict__ gamma,
                                                       const float* __restrict__ beta, int update, int weight_mode,
                                                       double momentum, double decay, double variance_scale,
                                                       int renorm, double renorm_rmax, double renorm_dmax,
                                                       const float* __restrict__ running_mean,
                                                       const float* __restrict__ running_var, float* __restrict__ params,
                                                       double* __restrict__ scratch, long long* __restrict__ counters,
                                                       long long* failure, unsigned int* __restrict__ blocks_done) {
    // [y][x]: a row for each y of the largest block (1024 threads), padded against bank conflicts
    __shared__ Welford column[1024 / CHANNELS_LAST_TILE_CHANNELS][CHANNELS_LAST_TILE_CHANNELS + 1];
    long long c = (long long)blockIdx.y * CHANNELS_LAST_TILE_CHANNELS + threadIdx.x;
    long long b = blockIdx.x;
    long long start = b * rows_per_block;
    long long end = min(rows, start + rows_per_block);
    Welford w = {0.0f, 0.0f, 0.0f};
    if (c < channels) {
        float shift = x[c];
        // Four rows per trip, pushed in row order; written out because nvcc's own unrolling
        // divides to count the trips.
        long long r = start + threadIdx.y;
        long long step = blockDim.y;
#pragma unroll 1
        for (; r + 3 * step < end; r += 4 * step) {
            float v0 = x[r * channels + c], v1 = x[(r + step) * channels + c];
            float v2 = x[(r + 2 * step) * channels + c], v3 = x[(r + 3 * step) * channels + c];
            welford_push(w, v0 - shift);
            welford_push(w, v1 - shift);
            welford_push(w, v2 - shift);
            welford_push(w, v3 - shift);
        }
#pragma unroll 1
        for (; r < end; r += step) {
            welford_push(w, x[r * channels + c] - shift);
        }
    }
    column[threadIdx.y][threadIdx.x] = w;
    __syncthreads();
    if (threadIdx.y == 0 && c < channels) {
        for (int y = 1; y < blockDim.y; y++) {
            w = welford_merge(w, column[y][threadIdx.x]);
        }
        long long slot = b * channels + c; // block-major (batch_norm_statistics.cu's head)
        partial_count[slot] = w.count;
        partial_mean[slot] = w.mean;
        partial_m2[slot] = w.m2;
    }
    if (last_block_to_finish(blocks_done)) {
        finalize_statistics(partial_count, partial_mean, partial_m2, gridDim.x, channels, x, 1,
                            FinalizeArguments{eps, weight_mode, momentum, decay, variance_scale, update, 1, renorm,
                                              renorm_rmax, renorm_dmax}, gamma, beta,
                            running_mean, running_var, params, scratch,
                            counters, failure, threadIdx.y * blockDim.x + threadIdx.x, blockDim.x * blockDim.y);
    }
}

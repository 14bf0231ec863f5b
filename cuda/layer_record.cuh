// What a layer keeps on the device besides its per-channel arrays, and how a kernel reports a
// bad batch without the host waiting for it.
//
//   counters[COUNT_BATCHES]   num_batches_tracked: training updates committed so far
//   counters[COUNT_FORWARDS]  training forwards that computed batch statistics, committed or not:
//                             the step a failure names
//   counters[COUNT_FAILURES]  failures reported so far (the failure record's sequence number)
//   counters[COUNT_STATISTICS_READY], counters[COUNT_GRADIENTS_READY]
//                             1 when the finishing step of this call found everything finite:
//                             the call's last kernel then commits (commit_statistics,
//                             commit_gradients), so a launch the driver refuses commits nothing
//
// The failure record is four long longs in mapped, pinned host memory (the host reads it without
// a copy): {sequence, kind, channel, step}. A kernel that finds a bad batch writes kind, channel
// and step, fences, then the sequence; the host compares the sequence with the last one it saw
// (FailureRecord.java). Nothing else of the layer changes on a failure: the commits are all or
// nothing.
#pragma once

#include "launch_constants.cuh"  // the counters' indices, the failure record's fields and kinds

// One thread of the finishing block calls it, once per failed call.
__device__ __forceinline__ void report_failure(long long* counters, volatile long long* failure, int kind,
                                               long long channel) {
    long long sequence = counters[COUNT_FAILURES] + 1;
    counters[COUNT_FAILURES] = sequence;
    failure[FAILURE_RECORD_KIND] = kind;
    failure[FAILURE_RECORD_CHANNEL] = channel;
    failure[FAILURE_RECORD_STEP] = counters[COUNT_FORWARDS];
    __threadfence_system(); // the fields reach the host before the sequence that announces them
    failure[FAILURE_RECORD_SEQUENCE] = sequence;
}

// w of running = (1 - w) * running + w * batch for update number t (BatchNormConfig.newBatchWeight,
// in the same IEEE operations, so both backends round alike): mode 0 momentum, 1 cumulative
// average 1 / t, 2 bias-corrected momentum / (1 - decay^t) with decay^t by squaring. Computed here,
// from the device's own count, so a call replayed from a CUDA graph weighs its batch rightly.
__device__ __forceinline__ double new_batch_weight(int mode, double momentum, double decay, long long t) {
    if (mode == 1) {
        return __ddiv_rn(1.0, (double)t);
    }
    if (mode == 2) {
        double power = 1.0, base = decay;
#pragma unroll 1
        for (long long e = t; e > 0; e >>= 1) {
            if (e & 1) {
                power = __dmul_rn(power, base);
            }
            base = __dmul_rn(base, base);
        }
        return __ddiv_rn(momentum, __dsub_rn(1.0, power));
    }
    return momentum;
}

// A training forward's statistics scratch, written by its finishing step and read by its commit:
// C doubles (the batch mean, as the CPU path saves it), then six planes of C floats: invstd,
// next running mean, next running var, next running 1/sqrt(var + eps), and Batch
// Renormalization's r and d (1 and 0 without it). 32 bytes a channel, in planes so that a warp,
// a channel per thread, writes and reads whole sectors.
#define SCRATCH_INVSTD 0
#define SCRATCH_NEXT_MEAN 1
#define SCRATCH_NEXT_VAR 2
#define SCRATCH_NEXT_INVSTD 3
#define SCRATCH_RENORM_R 4
#define SCRATCH_RENORM_D 5
static_assert(sizeof(double) + (SCRATCH_RENORM_D + 1) * sizeof(float) == STATISTICS_SCRATCH_BYTES_PER_CHANNEL,
              "the host allocates STATISTICS_SCRATCH_BYTES_PER_CHANNEL bytes a channel for this scratch");
__device__ __forceinline__ const float* scratch_plane(const double* scratch, long long channels, int plane) {
    return reinterpret_cast<const float*>(scratch + channels) + plane * channels;
}
__device__ __forceinline__ float* scratch_plane(double* scratch, long long channels, int plane) {
    return reinterpret_cast<float*>(scratch + channels) + plane * channels;
}

// The commit of a training forward, in its normalize kernel (every thread calls it; thread is its
// index in the grid, threads the grid's size): the saved statistics and, with update, the running
// statistics with their 1/sqrt(var + eps), from the finishing step's scratch (above), and
// num_batches_tracked; with renorm, Batch Renormalization's r and d into saved_renorm (C floats
// of r, then C of d), which the backward treats as constants.
__device__ __forceinline__ void commit_statistics(const double* __restrict__ scratch, long long channels, int update,
                                                  double* __restrict__ saved_mean,
                                                  float* __restrict__ saved_invstd, float* __restrict__ running_mean,
                                                  float* __restrict__ running_var,
                                                  float* __restrict__ running_invstd, long long* counters,
                                                  int renorm, float* __restrict__ saved_renorm,
                                                  long long thread, long long threads) {
    if (!counters[COUNT_STATISTICS_READY]) {
        return;
    }
#pragma unroll 1
    for (long long c = thread; c < channels; c += threads) {
        saved_mean[c] = scratch[c];
        saved_invstd[c] = scratch_plane(scratch, channels, SCRATCH_INVSTD)[c];
        if (update) {
            running_mean[c] = scratch_plane(scratch, channels, SCRATCH_NEXT_MEAN)[c];
            running_var[c] = scratch_plane(scratch, channels, SCRATCH_NEXT_VAR)[c];
            running_invstd[c] = scratch_plane(scratch, channels, SCRATCH_NEXT_INVSTD)[c];
        }
        if (renorm) {
            saved_renorm[c] = scratch_plane(scratch, channels, SCRATCH_RENORM_R)[c];
            saved_renorm[channels + c] = scratch_plane(scratch, channels, SCRATCH_RENORM_D)[c];
        }
    }
    if (thread == 0 && update) {
        counters[COUNT_BATCHES] += 1;
    }
}

// The commit of a backward, in its apply kernel: the gamma and beta gradients from the finishing
// step's scratch (two planes of C floats).
static_assert(2 * sizeof(float) == BACKWARD_SCRATCH_BYTES_PER_CHANNEL,
              "the host allocates BACKWARD_SCRATCH_BYTES_PER_CHANNEL bytes a channel for this scratch");
__device__ __forceinline__ void commit_gradients(const float* __restrict__ scratch, long long channels,
                                                 float* __restrict__ gamma_grad, float* __restrict__ beta_grad,
                                                 const long long* counters, long long thread, long long threads) {
    if (!counters[COUNT_GRADIENTS_READY]) {
        return;
    }
#pragma unroll 1
    for (long long c = thread; c < channels; c += threads) {
        gamma_grad[c] = scratch[c];
        beta_grad[c] = scratch[channels + c];
    }
}

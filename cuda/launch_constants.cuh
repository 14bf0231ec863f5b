// The constants the host and the kernels must agree on: the launch geometry the kernels are
// written for, and the layout of the buffers that both sides size, fill or read. Each is named
// once for the kernels, here, and once for the host, in internal/cuda/LaunchConstants.java under
// the same name. LaunchConstantsTest reads this file and fails when a value differs between the
// two or a name is on one side only, so each constant is a plain `#define NAME integer`, one a
// line. Where a kernel relies on a value, a static_assert beside that kernel says how.
#pragma once

// ---- Launch geometry ----

// Threads of a 1-D block (the NCHW reductions and the elementwise kernels); the block reductions
// take whole warps (welford.cuh).
#define BLOCK_THREADS 256

// Blocks of the channels-last reductions (bn_statistics_channels_last,
// bn_backward_sums_channels_last): CHANNELS_LAST_TILE_CHANNELS lanes, one channel each, by
// CHANNELS_LAST_TILE_ROWS rows; gridDim.y counts tiles of CHANNELS_LAST_TILE_CHANNELS channels.
#define CHANNELS_LAST_TILE_CHANNELS 32
#define CHANNELS_LAST_TILE_ROWS 8

// Items (float4 or float) each lane of bn_normalize_nchw takes per warp chunk, so that a warp
// reads a channel's parameters once per chunk rather than once per item. The host sizes the grid
// for work / NCHW_ITEMS_PER_LANE threads; any grid is correct.
#define NCHW_ITEMS_PER_LANE 8

// ---- Buffers ----

// params: a channel's normalization parameters, PARAMS_PER_CHANNEL floats, in this order
// (normalize_params.cuh: a float4 per channel, or a plane of C floats each).
#define PARAMS_PER_CHANNEL 4
#define PARAM_MEAN_HI 0
#define PARAM_MEAN_LO 1
#define PARAM_SCALE 2
#define PARAM_SHIFT 3

// coefficients: dx = k * dy - kc * (x - mean) - k0, a float4 per channel (k, kc, k0, unused),
// made by finalize_backward or by the host, read by the apply kernels.
#define COEFFICIENTS_PER_CHANNEL 4
#define COEFFICIENT_K 0
#define COEFFICIENT_KC 1
#define COEFFICIENT_K0 2

// scratch: what a finishing step leaves for the commit in the next launch, per channel
// (layer_record.cuh): a training forward's statistics, a backward's gamma and beta gradients.
#define STATISTICS_SCRATCH_BYTES_PER_CHANNEL 32
#define BACKWARD_SCRATCH_BYTES_PER_CHANNEL 8

// counters: COUNTERS long longs, each at its index (layer_record.cuh says what each counts).
#define COUNT_BATCHES 0
#define COUNT_FORWARDS 1
#define COUNT_FAILURES 2
#define COUNT_STATISTICS_READY 3
#define COUNT_GRADIENTS_READY 4
#define COUNTERS 5

// The failure record: FAILURE_RECORD_LONGS long longs in mapped host memory, each field at its
// index (layer_record.cuh, FailureRecord.java), and the kinds of failure it reports.
#define FAILURE_RECORD_SEQUENCE 0
#define FAILURE_RECORD_KIND 1
#define FAILURE_RECORD_CHANNEL 2
#define FAILURE_RECORD_STEP 3
#define FAILURE_RECORD_LONGS 4
#define FAILURE_BATCH_STATISTICS 1  // a channel's batch mean or variance is not finite
#define FAILURE_RUNNING_OVERFLOW 2  // a channel's running statistics would overflow float
#define FAILURE_GRADIENTS 3         // a channel's gamma or beta gradient is not finite

package io.github.batchnorm4j.internal.cuda;

/**
 * The constants the host and the kernels must agree on, under the names and with the values of
 * {@code cuda/launch_constants.cuh}, which says what each one is: the launch geometry the kernels
 * are written for, and the layout of the buffers both sides size, fill or read.
 * {@code LaunchConstantsTest} fails when this class and that header differ in a name or a value,
 * so change both together (and rebuild the PTX). Public for the emulator's tests of the shipped
 * kernels.
 */
public final class LaunchConstants {
    // ---- Launch geometry ----
    public static final int BLOCK_THREADS = 256;
    public static final int CHANNELS_LAST_TILE_CHANNELS = 32;
    public static final int CHANNELS_LAST_TILE_ROWS = 8;
    public static final int NCHW_ITEMS_PER_LANE = 8;

    // ---- params: a channel's normalization parameters ----
    public static final int PARAMS_PER_CHANNEL = 4;
    public static final int PARAM_MEAN_HI = 0;
    public static final int PARAM_MEAN_LO = 1;
    public static final int PARAM_SCALE = 2;
    public static final int PARAM_SHIFT = 3;

    // ---- coefficients: a channel's dx coefficients ----
    public static final int COEFFICIENTS_PER_CHANNEL = 4;
    public static final int COEFFICIENT_K = 0;
    public static final int COEFFICIENT_KC = 1;
    public static final int COEFFICIENT_K0 = 2;

    // ---- scratch ----
    public static final int STATISTICS_SCRATCH_BYTES_PER_CHANNEL = 32;
    public static final int BACKWARD_SCRATCH_BYTES_PER_CHANNEL = 8;

    // ---- counters ----
    public static final int COUNT_BATCHES = 0;
    public static final int COUNT_FORWARDS = 1;
    public static final int COUNT_FAILURES = 2;
    public static final int COUNT_STATISTICS_READY = 3;
    public static final int COUNT_GRADIENTS_READY = 4;
    public static final int COUNTERS = 5;

    // ---- the failure record: its fields, and the kinds of failure ----
    public static final int FAILURE_RECORD_SEQUENCE = 0;
    public static final int FAILURE_RECORD_KIND = 1;
    public static final int FAILURE_RECORD_CHANNEL = 2;
    public static final int FAILURE_RECORD_STEP = 3;
    public static final int FAILURE_RECORD_LONGS = 4;
    public static final int FAILURE_BATCH_STATISTICS = 1;
    public static final int FAILURE_RUNNING_OVERFLOW = 2;
    public static final int FAILURE_GRADIENTS = 3;

    private LaunchConstants() {
    }
}

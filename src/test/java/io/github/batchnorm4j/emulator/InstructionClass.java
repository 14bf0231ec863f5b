package io.github.batchnorm4j.emulator;

/** The cost-model class an executed instruction is counted in ({@link LaunchStatistics}). */
enum InstructionClass {
    FP32, FP64, INTEGER, MEMORY,
    /** Branches, barriers, warp shuffles and votes, ret and exit. */
    CONTROL,
    /** Moves, selects, conversions between integers, fences. */
    OTHER
}

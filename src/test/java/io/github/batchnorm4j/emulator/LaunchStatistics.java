package io.github.batchnorm4j.emulator;

/**
 * What one launch executed, for a cost model. Instruction counts are per thread and include
 * instructions whose guard predicate was false (they are issued all the same).
 *
 * <p>A global-memory request is one static ld/st/atom (global or generic address that resolved
 * to global memory) executed by the threads of one warp for their k-th time; its bytes are the
 * distinct addresses the threads named times the access size (a broadcast counts once) and its
 * sectors the distinct 32-byte sectors they touched. Sector
 * efficiency is {@code globalRequestBytes / (32 * globalRequestSectors)}.
 *
 * @param instructions        all executed instructions
 * @param fp32Instructions    single-precision arithmetic, compares and conversions to or from f32
 * @param fp64Instructions    double-precision arithmetic, compares and conversions involving f64
 * @param integerInstructions integer arithmetic, logic, shifts, compares, integer conversions
 * @param memoryInstructions  ld, st, atom, red in any state space
 * @param controlInstructions branches, bar.sync, shfl.sync, vote.sync, ret, exit
 * @param otherInstructions   mov, selp, predicate logic, fences
 * @param integerDivisions    integer div and rem (also counted as integer instructions)
 */
public record LaunchStatistics(long instructions, long fp32Instructions, long fp64Instructions,
                               long integerInstructions, long memoryInstructions, long controlInstructions,
                               long otherInstructions, long integerDivisions, long globalRequests,
                               long globalRequestBytes, long globalRequestSectors, int blocks,
                               int threadsPerBlock) {

    /** Bytes asked for per byte moved in 32-byte sectors, 1 when perfectly coalesced; 1 with no requests. */
    public double sectorEfficiency() {
        return globalRequestSectors == 0 ? 1.0 : globalRequestBytes / (32.0 * globalRequestSectors);
    }
}

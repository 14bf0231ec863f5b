package io.github.batchnorm4j.emulator;

/**
 * The read-only special registers a kernel may read. Each one a kernel uses gets a register-file
 * slot that the interpreter fills when a thread starts, so reading one is an ordinary move.
 */
enum SpecialRegister {
    TID_X("%tid.x"), TID_Y("%tid.y"), TID_Z("%tid.z"),
    NTID_X("%ntid.x"), NTID_Y("%ntid.y"), NTID_Z("%ntid.z"),
    CTAID_X("%ctaid.x"), CTAID_Y("%ctaid.y"), CTAID_Z("%ctaid.z"),
    NCTAID_X("%nctaid.x"), NCTAID_Y("%nctaid.y"), NCTAID_Z("%nctaid.z"),
    LANEID("%laneid"),
    /** The warp's index in its block (PTX allows any stable id; this one is the linear index). */
    WARPID("%warpid"),
    NWARPID("%nwarpid"),
    LANEMASK_EQ("%lanemask_eq"), LANEMASK_LE("%lanemask_le"), LANEMASK_LT("%lanemask_lt"),
    LANEMASK_GE("%lanemask_ge"), LANEMASK_GT("%lanemask_gt"),
    DYNAMIC_SMEM_SIZE("%dynamic_smem_size"), TOTAL_SMEM_SIZE("%total_smem_size");

    final String ptxName;

    SpecialRegister(String ptxName) {
        this.ptxName = ptxName;
    }

    static SpecialRegister parse(String name) {
        for (SpecialRegister s : values()) {
            if (s.ptxName.equals(name)) {
                return s;
            }
        }
        return null;
    }

    /**
     * The value in a thread: {@code thread} and {@code block} are (x, y, z) indices, {@code
     * blockDim} and {@code grid} the launch's sizes, {@code linear} the thread's linear index.
     */
    long value(int[] thread, int linear, int[] block, int[] blockDim, int[] grid, int dynamicShared,
               int totalShared) {
        int lane = linear & 31;
        switch (this) {
            case TID_X: return thread[0];
            case TID_Y: return thread[1];
            case TID_Z: return thread[2];
            case NTID_X: return blockDim[0];
            case NTID_Y: return blockDim[1];
            case NTID_Z: return blockDim[2];
            case CTAID_X: return block[0];
            case CTAID_Y: return block[1];
            case CTAID_Z: return block[2];
            case NCTAID_X: return grid[0];
            case NCTAID_Y: return grid[1];
            case NCTAID_Z: return grid[2];
            case LANEID: return lane;
            case WARPID: return linear >>> 5;
            case NWARPID: return (blockDim[0] * blockDim[1] * blockDim[2] + 31) >>> 5;
            case LANEMASK_EQ: return 1L << lane;
            case LANEMASK_LE: return (2L << lane) - 1;
            case LANEMASK_LT: return (1L << lane) - 1;
            case LANEMASK_GE: return 0xFFFFFFFFL & ~((1L << lane) - 1);
            case LANEMASK_GT: return 0xFFFFFFFFL & ~((2L << lane) - 1);
            case DYNAMIC_SMEM_SIZE: return dynamicShared;
            case TOTAL_SMEM_SIZE: return totalShared;
            default: throw new AssertionError(this);
        }
    }
}

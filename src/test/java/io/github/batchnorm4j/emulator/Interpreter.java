package io.github.batchnorm4j.emulator;

/**
 * Runs kernel launches on the CPU: every CUDA thread has its own registers and program counter,
 * warps are 32 consecutive linear thread ids, threads run one at a time in the order the
 * {@link Schedule} gives. Checks shared memory (memcheck, initcheck, racecheck), barriers and
 * warp collectives (synccheck), parameter reads, and a runaway budget; global memory is checked
 * by the {@link GlobalMemory} it is given.
 */
public final class Interpreter {
    /** Instructions a launch may execute before it is taken for an endless loop. */
    public static final long DEFAULT_INSTRUCTION_BUDGET = 20_000_000_000L;
    /** The shared memory a block may have without an opt-in attribute. */
    public static final int MAX_SHARED_BYTES = 48 * 1024;

    private Interpreter() {
    }

    public static LaunchStatistics launch(PtxKernel kernel, int[] grid, int[] block, int dynamicSharedBytes,
                                          byte[] parameterBuffer, GlobalMemory memory, Schedule schedule) {
        return launch(kernel, grid, block, dynamicSharedBytes, parameterBuffer, memory, schedule,
                DEFAULT_INSTRUCTION_BUDGET);
    }

    /**
     * Runs one launch to completion.
     *
     * @throws IllegalArgumentException when the grid, block or shared memory size is not a valid launch
     * @throws DeviceFault              when a check fails: synccheck also for a parameter buffer whose
     *                                  size is not {@link PtxKernel#parameterBytes()}
     */
    public static LaunchStatistics launch(PtxKernel kernel, int[] grid, int[] block, int dynamicSharedBytes,
                                          byte[] parameterBuffer, GlobalMemory memory, Schedule schedule,
                                          long instructionBudget) {
        validate(kernel, grid, block, dynamicSharedBytes);
        if (parameterBuffer == null || parameterBuffer.length != kernel.parameterBytes()) {
            throw new DeviceFault("synccheck", kernel.name() + ": the parameter buffer has "
                    + (parameterBuffer == null ? "no" : parameterBuffer.length) + " bytes, the kernel's .param "
                    + "list needs " + kernel.parameterBytes());
        }
        if (instructionBudget <= 0) {
            throw new IllegalArgumentException("instruction budget must be positive");
        }
        Launch launch = new Launch(kernel, grid, block, dynamicSharedBytes, parameterBuffer.clone(), memory,
                instructionBudget);
        Scheduler scheduler = new Scheduler(launch);
        scheduler.run(schedule == null ? Schedule.DETERMINISTIC : schedule);
        return statistics(launch, scheduler);
    }

    private static void validate(PtxKernel kernel, int[] grid, int[] block, int dynamicSharedBytes) {
        if (grid == null || grid.length != 3 || block == null || block.length != 3) {
            throw new IllegalArgumentException("grid and block need three dimensions (x, y, z)");
        }
        if (grid[0] < 1 || grid[1] < 1 || grid[2] < 1 || block[0] < 1 || block[1] < 1 || block[2] < 1) {
            throw new IllegalArgumentException("launch dimensions must be positive: grid " + dims(grid)
                    + ", block " + dims(block));
        }
        if (grid[1] > 65535 || grid[2] > 65535) {
            throw new IllegalArgumentException("grid y and z may not exceed 65535: " + dims(grid));
        }
        if ((long) grid[0] * grid[1] * grid[2] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("grid too large for the interpreter: " + dims(grid));
        }
        if (block[0] > 1024 || block[1] > 1024 || block[2] > 64 || (long) block[0] * block[1] * block[2] > 1024) {
            throw new IllegalArgumentException("a block may have at most 1024 threads (x, y <= 1024, z <= 64): "
                    + dims(block));
        }
        if (kernel.requiredBlock != null && (block[0] != kernel.requiredBlock[0]
                || block[1] != kernel.requiredBlock[1] || block[2] != kernel.requiredBlock[2])) {
            throw new IllegalArgumentException(kernel.name() + " requires a block of " + dims(kernel.requiredBlock)
                    + " (.reqntid), launched with " + dims(block));
        }
        if (kernel.maximumBlock != null && (long) block[0] * block[1] * block[2]
                > (long) kernel.maximumBlock[0] * kernel.maximumBlock[1] * kernel.maximumBlock[2]) {
            throw new IllegalArgumentException(kernel.name() + " allows at most " + dims(kernel.maximumBlock)
                    + " threads (.maxntid), launched with " + dims(block));
        }
        if (dynamicSharedBytes < 0 || kernel.shared.totalBytes(dynamicSharedBytes) > MAX_SHARED_BYTES) {
            throw new IllegalArgumentException(kernel.name() + ": " + kernel.staticSharedBytes()
                    + " static and " + dynamicSharedBytes + " dynamic shared bytes exceed " + MAX_SHARED_BYTES);
        }
    }

    private static String dims(int[] d) {
        return "(" + d[0] + "," + d[1] + "," + d[2] + ")";
    }

    private static LaunchStatistics statistics(Launch launch, Scheduler scheduler) {
        long[] byClass = new long[InstructionClass.values().length];
        long total = 0;
        long divisions = 0;
        Instruction[] code = launch.kernel.code;
        for (int pc = 0; pc < code.length; pc++) {
            long n = launch.counts[pc];
            if (n == 0) {
                continue;
            }
            total += n;
            byClass[code[pc].statisticsClass.ordinal()] += n;
            if (code[pc].division) {
                divisions += n;
            }
        }
        return new LaunchStatistics(total, byClass[InstructionClass.FP32.ordinal()],
                byClass[InstructionClass.FP64.ordinal()], byClass[InstructionClass.INTEGER.ordinal()],
                byClass[InstructionClass.MEMORY.ordinal()], byClass[InstructionClass.CONTROL.ordinal()],
                byClass[InstructionClass.OTHER.ordinal()], divisions, scheduler.requests, scheduler.requestBytes,
                scheduler.requestSectors, launch.blockCount, launch.threadsPerBlock);
    }
}

package io.github.batchnorm4j.emulator;

import java.util.Arrays;

/**
 * The emulated GPU's own thread: launches run here while the launching thread waits, as a host
 * thread waits for a real GPU. This keeps the interpreter's allocations off the caller's thread,
 * so the tests that a layer's steady state allocates nothing measure the layer, not the
 * emulator; the hand-over itself allocates nothing. One launch runs at a time.
 */
final class DeviceThread {
    private final EmulatedGpu gpu;
    private boolean busy;
    private boolean submitted;
    private boolean finished;

    private PtxKernel kernel;
    private final long[] dimensions = new long[6];
    private long sharedBytes;
    private byte[] parameters;
    private int parameterBytes;
    private long result;

    DeviceThread(EmulatedGpu gpu) {
        this.gpu = gpu;
        Thread thread = new Thread(this::serve, "emulated-gpu");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Runs one launch on the device thread and returns the driver's answer (0 or minus a CUresult).
     * {@code parameters} holds the .param bytes in its first {@code parameterBytes} bytes.
     */
    synchronized long launch(PtxKernel kernel, long gridX, long gridY, long gridZ, long blockX, long blockY,
            long blockZ, long sharedBytes, byte[] parameters, int parameterBytes) {
        boolean interrupted = false;
        while (busy) {
            interrupted |= waitUninterruptibly();
        }
        busy = true;
        this.kernel = kernel;
        dimensions[0] = gridX;
        dimensions[1] = gridY;
        dimensions[2] = gridZ;
        dimensions[3] = blockX;
        dimensions[4] = blockY;
        dimensions[5] = blockZ;
        this.sharedBytes = sharedBytes;
        this.parameters = parameters;
        this.parameterBytes = parameterBytes;
        submitted = true;
        notifyAll();
        while (!finished) {
            interrupted |= waitUninterruptibly();
        }
        finished = false;
        busy = false;
        this.parameters = null;
        long answer = result;
        notifyAll();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return answer;
    }

    private boolean waitUninterruptibly() {
        try {
            wait();
            return false;
        } catch (InterruptedException e) {
            return true;
        }
    }

    private void serve() {
        while (true) {
            PtxKernel next;
            int[] grid;
            int[] block;
            byte[] buffer;
            int shared;
            synchronized (this) {
                while (!submitted) {
                    waitUninterruptibly();
                }
                submitted = false;
                next = kernel;
                grid = new int[] {(int) dimensions[0], (int) dimensions[1], (int) dimensions[2]};
                block = new int[] {(int) dimensions[3], (int) dimensions[4], (int) dimensions[5]};
                buffer = Arrays.copyOf(parameters, parameterBytes);
                shared = (int) sharedBytes;
            }
            long answer = run(next, grid, block, shared, buffer);
            synchronized (this) {
                result = answer;
                finished = true;
                notifyAll();
            }
        }
    }

    private long run(PtxKernel next, int[] grid, int[] block, int shared, byte[] buffer) {
        try {
            gpu.launch(next, grid, block, shared, buffer);
            return EmulatedDriver.SUCCESS;
        } catch (DeviceFault fault) {
            if (!fault.check().equals("memcheck")) {
                return EmulatedDriver.LAUNCH_FAILED;
            }
            return fault.getMessage().contains("misaligned") ? EmulatedDriver.MISALIGNED_ADDRESS
                    : EmulatedDriver.ILLEGAL_ADDRESS;
        } catch (RuntimeException | Error e) {
            // An emulator bug, not a kernel's: record it so the test fails, and fail the launch.
            gpu.record(new DeviceFault("interpreter", "emulator error in " + next.name() + ": " + e));
            e.printStackTrace();
            return EmulatedDriver.LAUNCH_FAILED;
        }
    }
}

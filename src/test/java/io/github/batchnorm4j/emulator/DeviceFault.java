package io.github.batchnorm4j.emulator;

/**
 * A defect the emulator found: which check (memcheck, initcheck, racecheck, synccheck, or
 * "interpreter" for an instruction it cannot run) and a message that names the kernel,
 * instruction, block, thread and address where they are known.
 */
public final class DeviceFault extends RuntimeException {
    private final String check;

    public DeviceFault(String check, String message) {
        super(check + ": " + message);
        this.check = check;
    }

    /** memcheck, initcheck, racecheck, synccheck or interpreter. */
    public String check() {
        return check;
    }
}

package io.github.batchnorm4j.emulator;

/**
 * Builds the DeviceFaults of a launch, each naming the kernel, the instruction (text and line),
 * the block and the thread, then what is wrong (with the address, where there is one).
 */
final class Faults {
    private Faults() {
    }

    static DeviceFault at(String check, PtxKernel kernel, Instruction in, BlockExecution block, ThreadContext t,
                          String detail) {
        return new DeviceFault(check, kernel.name() + ": " + in.where() + ", block " + block.coordinates()
                + ", thread " + t.coordinates() + ": " + detail);
    }

    /** Adds the launch context to a fault raised by a memory (global or shared) or an operation. */
    static DeviceFault wrap(DeviceFault cause, PtxKernel kernel, Instruction in, BlockExecution block,
                            ThreadContext t) {
        String message = cause.getMessage();
        String prefix = cause.check() + ": ";
        String detail = message != null && message.startsWith(prefix) ? message.substring(prefix.length()) : message;
        DeviceFault fault = at(cause.check(), kernel, in, block, t, detail);
        fault.initCause(cause);
        return fault;
    }

    /** An exception that is no DeviceFault is an interpreter defect; it still names the place. */
    static DeviceFault internal(RuntimeException cause, PtxKernel kernel, Instruction in, BlockExecution block,
                                ThreadContext t) {
        DeviceFault fault = at("interpreter", kernel, in, block, t, "internal error: " + cause);
        fault.initCause(cause);
        return fault;
    }
}

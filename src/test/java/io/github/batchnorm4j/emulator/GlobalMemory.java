package io.github.batchnorm4j.emulator;

/**
 * The emulated device's global memory as the interpreter sees it. Implementations check every
 * access (memcheck, initcheck, the cross-block part of racecheck) and throw {@link DeviceFault}
 * naming what is wrong; the interpreter adds the kernel, instruction, block and thread.
 */
public interface GlobalMemory {
    /**
     * Reads {@code size} bytes (1, 2, 4 or 8) at {@code address}, little-endian, zero-extended.
     *
     * @param block  linear index of the reading block in its grid
     * @param thread linear index of the reading thread in its block
     */
    long load(long address, int size, AccessKind kind, int block, int thread);

    /** Writes the low {@code size} bytes of {@code value} at {@code address}, little-endian. */
    void store(long address, int size, long value, AccessKind kind, int block, int thread);

    /** A {@code membar.gl} or {@code fence} by this thread: orders its earlier writes before its later accesses. */
    void fence(int block, int thread);
}

package io.github.batchnorm4j.emulator;

/** How an instruction touches global memory; racecheck treats atomics and plain accesses differently. */
public enum AccessKind {
    /** {@code ld.global}, {@code ld.global.cg} and other coherent loads. */
    LOAD,
    /** {@code ld.global.nc}: the read-only path; the data must not change during the kernel. */
    LOAD_NONCOHERENT,
    /** {@code st.global}. */
    STORE,
    /** The read and the write of an {@code atom.global} or {@code red.global}: one indivisible step. */
    ATOMIC
}

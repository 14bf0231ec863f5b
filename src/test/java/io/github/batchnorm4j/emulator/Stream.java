package io.github.batchnorm4j.emulator;

/** A CUstream as the emulator knows it: its creation flags and the capture sequence it records into. */
final class Stream {
    static final int NON_BLOCKING = 1;

    final long handle;
    final int flags;
    /** The capture this stream records into (begun on it, or joined through an event), or null. */
    StreamCapture capture;

    Stream(long handle, int flags) {
        this.handle = handle;
        this.flags = flags;
    }

    /** A blocking stream synchronizes with the legacy stream, so legacy work would depend on its capture. */
    boolean blocking() {
        return (flags & NON_BLOCKING) == 0;
    }
}

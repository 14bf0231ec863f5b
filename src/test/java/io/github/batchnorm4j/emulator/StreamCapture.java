package io.github.batchnorm4j.emulator;

import java.util.ArrayList;
import java.util.List;

/**
 * One capture sequence (cuStreamBeginCapture to cuStreamEndCapture): the stream it began on, its
 * mode, the operations recorded in issue order (host issue order respects every dependency, so
 * replaying in that order is one order the graph allows), and whether an error invalidated it.
 */
final class StreamCapture {
    static final int GLOBAL = 0;
    static final int THREAD_LOCAL = 1;
    static final int RELAXED = 2;

    final Stream origin;
    final int mode;
    final List<GraphNode> nodes = new ArrayList<>();
    boolean invalidated;
    /** False once ended; an event recorded in an ended capture stays a captured event. */
    boolean active = true;

    StreamCapture(Stream origin, int mode) {
        this.origin = origin;
        this.mode = mode;
    }

    /**
     * Whether potentially unsafe calls (allocation, synchronous APIs) are refused during this
     * capture. THREAD_LOCAL is treated as GLOBAL: one process, and the tests that capture are
     * single-threaded.
     */
    boolean prohibitsUnsafeCalls() {
        return mode != RELAXED;
    }
}

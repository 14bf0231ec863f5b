package io.github.batchnorm4j.emulator;

/** A CUevent: the modeled time it was last recorded at, and the capture that last recorded it, if any. */
final class Event {
    /** Modeled nanoseconds of the latest record, or -1 before the first. */
    long nanos = -1;
    /**
     * The capture sequence that last recorded this event, or null: such an event stands for a node
     * of a graph, not for work scheduled on the device, so it may not be waited for or queried.
     */
    StreamCapture capture;
}

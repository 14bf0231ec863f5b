package io.github.batchnorm4j.emulator;

import java.util.ArrayList;
import java.util.List;

/**
 * The streams of the emulated device and the rules of stream capture, as the CUDA programming
 * guide states them ("Prohibited and Unhandled Operations"): work on a capturing stream is
 * recorded, not run; synchronizing or querying a capturing stream or a captured event, or the
 * whole context, is invalid in every mode; potentially unsafe calls (allocation, synchronous
 * APIs) are refused while a GLOBAL or THREAD_LOCAL capture is active; and while a blocking stream
 * captures, the legacy stream, which synchronizes with every blocking stream, may not be used.
 * Each refusal invalidates the captures it concerns, so cuStreamEndCapture then fails.
 *
 * <p>Answers are the driver's: RUN or CAPTURED, or minus a CUresult. Every method is called
 * under the {@link EmulatedGpu}'s lock; none allocates unless a capture begins or records.
 */
final class Streams {
    /** {@link #admit}: the operation goes ahead now. */
    static final long RUN = 0;
    /** {@link #admit}: the stream is capturing, so the operation is to be recorded ({@link #record}). */
    static final long CAPTURED = 1;

    /** CU_STREAM_LEGACY; handle 0 (the NULL stream) is the legacy stream too. */
    static final long LEGACY = 0x1;
    /** CU_STREAM_PER_THREAD: an ordinary, blocking stream (it synchronizes with the legacy stream). */
    static final long PER_THREAD = 0x2;

    static final int CAPTURE_STATUS_NONE = 0;
    static final int CAPTURE_STATUS_ACTIVE = 1;
    static final int CAPTURE_STATUS_INVALIDATED = 2;

    private final Stream legacy = new Stream(LEGACY, 0);
    private final Stream perThread = new Stream(PER_THREAD, 0);
    private final HandleTable<Stream> live = new HandleTable<>();
    private final List<StreamCapture> active = new ArrayList<>();

    static boolean isLegacy(long handle) {
        return handle == 0 || handle == LEGACY;
    }

    /** The stream of {@code handle}: the legacy or per-thread stream, a live one, or null (unknown or destroyed). */
    Stream find(long handle) {
        if (isLegacy(handle)) {
            return legacy;
        }
        return handle == PER_THREAD ? perThread : live.get(handle);
    }

    void create(long handle, int flags) {
        live.put(handle, new Stream(handle, flags));
    }

    /** cuStreamDestroy: a capture begun on the stream is abandoned, so it stops constraining other calls. */
    long destroy(long handle) {
        if (isLegacy(handle) || handle == PER_THREAD) {
            return EmulatedDriver.SUCCESS;
        }
        Stream stream = live.remove(handle);
        if (stream == null) {
            return EmulatedDriver.INVALID_HANDLE;
        }
        if (stream.capture != null && stream.capture.origin == stream) {
            end(stream.capture);
        }
        stream.capture = null;
        return EmulatedDriver.SUCCESS;
    }

    /**
     * Whether an operation (launch, async copy, memset, event record) on {@code handle} runs now
     * (RUN), is recorded into the stream's capture (CAPTURED), or is refused.
     */
    long admit(long handle) {
        Stream stream = find(handle);
        if (stream == null) {
            return EmulatedDriver.INVALID_HANDLE;
        }
        StreamCapture capture = stream.capture;
        if (capture != null) {
            return capture.invalidated ? EmulatedDriver.STREAM_CAPTURE_INVALIDATED : CAPTURED;
        }
        return stream == legacy ? legacyUse() : RUN;
    }

    /** Records {@code node} into the capture of {@code handle}, which {@link #admit} found CAPTURED. */
    StreamCapture record(long handle, GraphNode node) {
        StreamCapture capture = find(handle).capture;
        capture.nodes.add(node);
        return capture;
    }

    /** cuMemAlloc, cuMemFree and pinned allocation: refused while a GLOBAL or THREAD_LOCAL capture is active. */
    long unsafeCall() {
        boolean refused = false;
        for (int i = 0; i < active.size(); i++) {
            StreamCapture capture = active.get(i);
            if (capture.prohibitsUnsafeCalls()) {
                capture.invalidated = true;
                refused = true;
            }
        }
        return refused ? EmulatedDriver.STREAM_CAPTURE_UNSUPPORTED : RUN;
    }

    /** Synchronous copies and memsets: unsafe calls, and work on the legacy stream besides. */
    long synchronousCall() {
        long unsafe = unsafeCall();
        return unsafe < 0 ? unsafe : legacyUse();
    }

    /** cuCtxSynchronize would wait for every stream, capturing ones included: invalid during any capture. */
    long synchronizeContext() {
        if (active.isEmpty()) {
            return RUN;
        }
        for (int i = 0; i < active.size(); i++) {
            active.get(i).invalidated = true;
        }
        return EmulatedDriver.STREAM_CAPTURE_UNSUPPORTED;
    }

    /** cuStreamSynchronize and cuStreamQuery: a capturing stream has no scheduled work to wait for. */
    long synchronizeStream(long handle) {
        Stream stream = find(handle);
        if (stream == null) {
            return EmulatedDriver.INVALID_HANDLE;
        }
        if (stream.capture != null) {
            stream.capture.invalidated = true;
            return EmulatedDriver.STREAM_CAPTURE_UNSUPPORTED;
        }
        return stream == legacy ? legacyUse() : RUN;
    }

    /**
     * cuEventSynchronize and cuEventQuery: an event recorded by a capture is a graph node, not
     * work; while that capture is active asking for it is unsupported, and after it ended the
     * event is a captured event until something records it again.
     */
    static long synchronizeEvent(Event event) {
        if (event == null) {
            return EmulatedDriver.INVALID_HANDLE;
        }
        StreamCapture capture = event.capture;
        if (capture == null) {
            return RUN;
        }
        if (capture.active) {
            capture.invalidated = true;
            return EmulatedDriver.STREAM_CAPTURE_UNSUPPORTED;
        }
        return EmulatedDriver.CAPTURED_EVENT;
    }

    /**
     * cuStreamWaitEvent. Work runs when issued, so every wait is already met; what remains are the
     * capture rules: waiting on an event a capture recorded makes a stream outside it join that
     * capture (the fork of a multi-stream capture), and two captures may not merge.
     */
    long waitEvent(long handle, Event event) {
        Stream stream = find(handle);
        if (stream == null || event == null) {
            return EmulatedDriver.INVALID_HANDLE;
        }
        StreamCapture from = event.capture;
        if (from != null && !from.active) {
            return EmulatedDriver.CAPTURED_EVENT;
        }
        StreamCapture capture = stream.capture;
        if (capture != null) {
            if (capture.invalidated) {
                return EmulatedDriver.STREAM_CAPTURE_INVALIDATED;
            }
            if (from != null && from != capture) {
                capture.invalidated = true;
                from.invalidated = true;
                return EmulatedDriver.STREAM_CAPTURE_MERGE;
            }
            return RUN;
        }
        if (from != null) {
            if (stream == legacy) {
                from.invalidated = true;
                return EmulatedDriver.STREAM_CAPTURE_IMPLICIT;
            }
            stream.capture = from;
            return RUN;
        }
        return stream == legacy ? legacyUse() : RUN;
    }

    /**
     * cuStreamIsCapturing. Asking about the legacy stream while a blocking stream captures is an
     * implicit dependency too, but (as the driver documents) it does not invalidate the capture.
     */
    long captureStatus(long handle) {
        Stream stream = find(handle);
        if (stream == null) {
            return EmulatedDriver.INVALID_HANDLE;
        }
        if (stream == legacy) {
            return !active.isEmpty() && blockingCaptures(false) ? EmulatedDriver.STREAM_CAPTURE_IMPLICIT : CAPTURE_STATUS_NONE;
        }
        if (stream.capture == null) {
            return CAPTURE_STATUS_NONE;
        }
        return stream.capture.invalidated ? CAPTURE_STATUS_INVALIDATED : CAPTURE_STATUS_ACTIVE;
    }

    /** cuStreamBeginCapture: the legacy stream cannot be captured, and a stream captures one sequence at a time. */
    long beginCapture(long handle, long mode) {
        if (mode < StreamCapture.GLOBAL || mode > StreamCapture.RELAXED) {
            return EmulatedDriver.INVALID_VALUE;
        }
        Stream stream = find(handle);
        if (stream == null) {
            return EmulatedDriver.INVALID_HANDLE;
        }
        if (stream == legacy) {
            return EmulatedDriver.STREAM_CAPTURE_UNSUPPORTED;
        }
        if (stream.capture != null) {
            return EmulatedDriver.ILLEGAL_STATE;
        }
        StreamCapture capture = new StreamCapture(stream, (int) mode);
        stream.capture = capture;
        active.add(capture);
        return EmulatedDriver.SUCCESS;
    }

    /** Ends {@code capture}: it and every stream that joined it stop capturing. */
    void end(StreamCapture capture) {
        capture.active = false;
        active.remove(capture);
        if (perThread.capture == capture) {
            perThread.capture = null;
        }
        for (int i = 0; i < live.size(); i++) {
            if (live.at(i).capture == capture) {
                live.at(i).capture = null;
            }
        }
    }

    /** Work on the legacy stream: refused, invalidating them, while blocking streams capture. */
    private long legacyUse() {
        return active.isEmpty() || !blockingCaptures(true) ? RUN : EmulatedDriver.STREAM_CAPTURE_IMPLICIT;
    }

    /** Whether a blocking stream is capturing; with {@code invalidate}, invalidates each such capture. */
    private boolean blockingCaptures(boolean invalidate) {
        boolean found = false;
        for (int i = -1; i < live.size(); i++) {
            Stream stream = i < 0 ? perThread : live.at(i);
            if (stream.capture != null && stream.blocking()) {
                found = true;
                if (!invalidate) {
                    return true;
                }
                stream.capture.invalidated = true;
            }
        }
        return found;
    }
}

package io.github.batchnorm4j.internal;

import io.github.batchnorm4j.Shape;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A layer's single-thread rule and its closed state. A call enters (refused while another thread
 * is inside, or after close) and exits; a close that finds the layer in use leaves the release of
 * its memory to the exiting call, so memory is never freed under a running call.
 */
public final class LayerGuard {
    private final AtomicBoolean inUse = new AtomicBoolean();
    private volatile boolean closed;

    /**
     * Checks the shape against the layer's {@code channels} (and, when the call needs batch
     * statistics, at least two values per channel), then claims the layer for this thread.
     */
    public void enter(Shape shape, int channels, boolean needsBatchStatistics) {
        requireOpen();
        if (shape == null) {
            throw new IllegalArgumentException("shape must not be null");
        }
        if (shape.channels() != channels) {
            throw new IllegalArgumentException("input " + shape + " has C=" + shape.channels()
                    + " channels but the layer has C=" + channels);
        }
        if (needsBatchStatistics && shape.valuesPerChannel() < 2) {
            throw new IllegalArgumentException(
                    "Expected more than 1 value per channel when training, got input shape " + shape);
        }
        if (!inUse.compareAndSet(false, true)) {
            throw new IllegalStateException("layer is already in use by another thread: one layer is not "
                    + "thread-safe; give each thread its own layer or synchronize");
        }
        if (closed) {
            inUse.set(false);
            throw new IllegalStateException("layer is closed");
        }
    }

    /** Ends a call; true when the layer was closed meanwhile, so the caller releases its memory now. */
    public boolean exit() {
        inUse.set(false);
        return closed;
    }

    /** Marks the layer closed; true when no call is inside, so the caller releases its memory now. */
    public boolean close() {
        if (closed) {
            return false;
        }
        closed = true;
        return inUse.compareAndSet(false, true);
    }

    public void requireOpen() {
        if (closed) {
            throw new IllegalStateException("layer is closed");
        }
    }
}

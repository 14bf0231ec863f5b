package io.github.batchnorm4j.internal;

import io.github.batchnorm4j.Shape;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A layer's single-thread rule and its closed state. Every call and every accessor enters
 * (refused while another thread is inside, or after close) and exits; a close that finds the
 * layer in use leaves the release of its memory to the exiting call, so memory is never freed
 * under a running call or a running copy.
 */
public final class LayerGuard {
    private final AtomicReference<Thread> owner = new AtomicReference<>();
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
        claim();
    }

    /** Claims the layer for an accessor (a getter, setter, save or load): no shape to check. */
    public void enter() {
        requireOpen();
        claim();
    }

    private void claim() {
        if (!owner.compareAndSet(null, Thread.currentThread())) {
            throw new IllegalStateException("layer is already in use by another thread: one layer is not "
                    + "thread-safe; give each thread its own layer or synchronize");
        }
        if (closed) {
            owner.set(null);
            throw new IllegalStateException("layer is closed");
        }
    }

    /** Whether the calling thread is inside: the core's inner steps require it. */
    public boolean heldByCurrentThread() {
        return owner.get() == Thread.currentThread();
    }

    /**
     * Ends a call; true when the layer was closed meanwhile, so the caller releases its memory now
     * (and keeps the layer claimed for good). Exactly one of exit and {@link #close} answers true.
     */
    public boolean exit() {
        if (closed) {
            return true;
        }
        owner.set(null);
        // A close between the check and the release found the layer in use and left the release here.
        return closed && owner.compareAndSet(null, Thread.currentThread());
    }

    /**
     * Marks the layer closed; true when no call is inside, so the caller releases its memory now.
     * The layer stays claimed by the closing thread for good, so no later call gets in.
     */
    public boolean close() {
        if (closed) {
            return false;
        }
        closed = true;
        return owner.compareAndSet(null, Thread.currentThread());
    }

    public void requireOpen() {
        if (closed) {
            throw new IllegalStateException("layer is closed");
        }
    }
}

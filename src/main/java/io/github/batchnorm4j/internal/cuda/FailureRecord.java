package io.github.batchnorm4j.internal.cuda;

import static io.github.batchnorm4j.internal.cuda.LaunchConstants.FAILURE_BATCH_STATISTICS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.FAILURE_GRADIENTS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.FAILURE_RECORD_CHANNEL;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.FAILURE_RECORD_KIND;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.FAILURE_RECORD_LONGS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.FAILURE_RECORD_SEQUENCE;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.FAILURE_RECORD_STEP;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.FAILURE_RUNNING_OVERFLOW;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * How a bad batch on the device reaches the host without a stall: the kernels' finishing block
 * writes {sequence, kind, channel, step} into this mapped, page-locked memory
 * (cuda/layer_record.cuh), and the host reads it, with no copy and no synchronization, at the
 * start of the layer's next call and after every synchronization. A sequence number the host has
 * not seen is a failure to report; the device commits nothing of a failed call, so the report is
 * all that happens.
 *
 * <p>As with CUDA's own asynchronous errors, a failure is reported by the first check that runs
 * after the device wrote it: on the emulator, where work finishes when it is launched, and with
 * synchronous errors on, that is the next call (or the failing call itself); on a GPU that is
 * still busy, possibly a later one.
 */
final class FailureRecord implements AutoCloseable {
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class,
            ByteOrder.nativeOrder());

    private final PinnedBuffer memory = new PinnedBuffer(true);
    private ByteBuffer view;
    private long seen;

    /** Allocates the record and marks it empty; the context must be current. */
    FailureRecord() {
        memory.atLeast(FAILURE_RECORD_LONGS * Long.BYTES);
        view = memory.host().getByteBuffer(0, FAILURE_RECORD_LONGS * Long.BYTES).order(ByteOrder.nativeOrder());
        for (int i = 0; i < FAILURE_RECORD_LONGS; i++) {
            LONGS.setVolatile(view, i * Long.BYTES, 0L);
        }
    }

    /** The record's device address as a kernel parameter. */
    KernelPointer argument() {
        return memory.deviceArgument();
    }

    /**
     * The failure the device reported since the last check, or null. Reading the sequence first,
     * with acquire semantics, orders the fields after it (the device fences before it writes it).
     */
    Failure takeNew() {
        long sequence = field(FAILURE_RECORD_SEQUENCE);
        if (sequence == seen) {
            return null;
        }
        Failure failure = new Failure((int) field(FAILURE_RECORD_KIND), field(FAILURE_RECORD_CHANNEL),
                field(FAILURE_RECORD_STEP), sequence - seen);
        seen = sequence;
        return failure;
    }

    private long field(int index) {
        return (long) LONGS.getAcquire(view, index * Long.BYTES);
    }

    /**
     * A reported failure: its kind, channel, the layer's training forward it happened in (1 for
     * the first), and how many failures the device reported since the last check (the fields are
     * the latest's).
     */
    record Failure(int kind, long channel, long step, long count) {
        String message(String shape) {
            String where = " (found on the device in training forward " + step + " of this layer"
                    + (count > 1 ? ", the latest of " + count + " failures" : "") + ")";
            return switch (kind) {
                case FAILURE_BATCH_STATISTICS -> "batch statistics of channel " + channel + " are not finite for input "
                        + shape + ": the input holds NaN or Inf or overflows float; running statistics left unchanged"
                        + where;
                case FAILURE_RUNNING_OVERFLOW -> "running statistics of channel " + channel
                        + " would overflow float for input " + shape + "; running statistics left unchanged" + where;
                case FAILURE_GRADIENTS -> "gradients of channel " + channel + " are not finite: dy or x holds NaN or "
                        + "Infinity; gradients left unchanged (found on the device in the backward after training "
                        + "forward " + step + " of this layer)";
                default -> "the device reported failure kind " + kind + " at channel " + channel;
            };
        }

        boolean ofForward() {
            return kind != FAILURE_GRADIENTS;
        }
    }

    @Override
    public void close() {
        memory.close();
    }
}

package io.github.batchnorm4j.internal;

import io.github.batchnorm4j.BatchNormConfig;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.internal.DeviceEntryPoints.StateMember;
import java.nio.FloatBuffer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * One layer under its public facades ({@code BatchNorm}, {@code DeviceBatchNorm},
 * {@code SyncBatchNorm}): its settings, state, backend, staging and guard. Every call and every
 * accessor goes through here and claims the layer first ({@link LayerGuard}), so the single-thread
 * rule and the rule that close never frees memory under a running call hold in one place.
 * Arguments are checked after the claim and before the backend is called, so a bad call changes
 * nothing.
 */
public final class LayerCore {
    /** The three operations of a layer. */
    public enum Operation {
        TRAINING, INFERENCE, BACKWARD
    }

    /** What an accessor needs of the layer's settings or history before it may run. */
    public enum Need {
        NOTHING, AFFINE, TRACKING, RENORMALIZATION, FORWARD
    }

    /** An accessor's work on the host's view of the state; it may throw a checked exception. */
    @FunctionalInterface
    public interface Access<T, E extends Exception> {
        T on(LayerState state) throws E;
    }

    /** A setter's work on the host's view of the state: checks its values, then changes them. */
    @FunctionalInterface
    public interface Change<E extends Exception> {
        void on(LayerState state) throws E;
    }

    private final BatchNormConfig config;
    private final LayerState state;
    private final BatchNormBackend backend;
    private final LayerGuard guard = new LayerGuard();
    private final HostStaging staging = new HostStaging();

    public LayerCore(BatchNormConfig config, BatchNormBackend backend) {
        this.config = config;
        this.state = new LayerState(config);
        this.backend = backend;
    }

    public BatchNormConfig config() {
        return config;
    }

    public String backendName() {
        return backend.name();
    }

    // ---- host calls ----

    /**
     * One operation on host arrays: x (and dy for backward) in, {@code out} (y, or dx) out.
     * dy is ignored except for backward.
     */
    public void run(Operation operation, Shape shape, float[] x, int xOffset, float[] dy, int dyOffset, float[] out,
            int outOffset) {
        enter(operation, shape);
        try {
            checkAndRun(operation, shape, x, xOffset, dy, dyOffset, out, outOffset);
        } finally {
            exit();
        }
    }

    /** One operation on buffers, from their positions (left unchanged); dy is ignored except for backward. */
    public void run(Operation operation, Shape shape, FloatBuffer x, FloatBuffer dy, FloatBuffer out) {
        enter(operation, shape);
        try {
            boolean backward = operation == Operation.BACKWARD;
            if (backward) {
                state.checkBackwardShape(shape);
            }
            int count = HostArguments.hostCount(shape);
            HostArguments.checkBuffer("x", x, count, shape, false);
            if (backward) {
                HostArguments.checkBuffer("dy", dy, count, shape, false);
            }
            HostArguments.checkBuffer(backward ? "dx" : "y", out, count, shape, true);
            float[] xs = staging.input(x, count, 0);
            float[] dys = backward ? staging.input(dy, count, 1) : null;
            float[] outs = staging.outputArray(out, count, backward ? 2 : 1);
            int xOffset = HostStaging.offset(x, xs), dyOffset = backward ? HostStaging.offset(dy, dys) : 0;
            int outOffset = HostStaging.offset(out, outs);
            checkNoPartialOverlap(backward, xs, xOffset, dys, dyOffset, outs, outOffset, count); // a buffer's own array
            dispatch(operation, shape, xs, xOffset, dys, dyOffset, outs, outOffset);
            HostStaging.finishOutput(out, outs, count);
        } finally {
            exit();
        }
    }

    private void checkAndRun(Operation operation, Shape shape, float[] x, int xOffset, float[] dy, int dyOffset,
            float[] out, int outOffset) {
        boolean backward = operation == Operation.BACKWARD;
        if (backward) {
            state.checkBackwardShape(shape);
        }
        int count = HostArguments.hostCount(shape);
        HostArguments.checkRange("x", x, xOffset, count, shape);
        if (backward) {
            HostArguments.checkRange("dy", dy, dyOffset, count, shape);
        }
        HostArguments.checkRange(backward ? "dx" : "y", out, outOffset, count, shape);
        checkNoPartialOverlap(backward, x, xOffset, dy, dyOffset, out, outOffset, count);
        dispatch(operation, shape, x, xOffset, dy, dyOffset, out, outOffset);
    }

    private static void checkNoPartialOverlap(boolean backward, float[] x, int xOffset, float[] dy, int dyOffset,
            float[] out, int outOffset, int count) {
        if (backward) {
            HostArguments.checkNoPartialOverlap(dy, dyOffset, out, outOffset, count);
        }
        HostArguments.checkNoPartialOverlap(x, xOffset, out, outOffset, count);
    }

    private void dispatch(Operation operation, Shape shape, float[] x, int xOffset, float[] dy, int dyOffset,
            float[] out, int outOffset) {
        switch (operation) {
            case TRAINING -> backend.forwardTraining(state, shape, x, xOffset, out, outOffset);
            case INFERENCE -> backend.forwardInference(state, shape, x, xOffset, out, outOffset);
            case BACKWARD -> backend.backward(state, shape, x, xOffset, dy, dyOffset, out, outOffset);
        }
    }

    // ---- device memory the caller owns ----

    /** Whether the backend offers entry points for caller-owned device memory. */
    public boolean hasDevice() {
        return access(Need.NOTHING, false, s -> backend.device() != null);
    }

    /** One operation on caller-owned device memory, on {@code stream}; dy is ignored except for backward. */
    public void runOnDevice(Operation operation, Shape shape, CUdeviceptr x, CUdeviceptr dy, CUdeviceptr out,
            CUstream stream) {
        enter(operation, shape);
        try {
            DeviceEntryPoints device = device();
            switch (operation) {
                case TRAINING -> device.forwardTraining(state, shape, x, out, stream);
                case INFERENCE -> device.forwardInference(state, shape, x, out, stream);
                case BACKWARD -> {
                    state.checkBackwardShape(shape);
                    device.backward(state, shape, x, dy, out, stream);
                }
            }
        } finally {
            exit();
        }
    }

    /** The device memory of one member of the state. */
    public CUdeviceptr deviceMember(StateMember member) {
        return access(member.affine() ? Need.AFFINE : Need.TRACKING, false, s -> device().deviceMember(s, member));
    }

    /** {launches, synchronizations, copies} the layer's calls have made. */
    public long[] driverCalls() {
        return access(Need.NOTHING, false, s -> device().driverCalls());
    }

    private DeviceEntryPoints device() {
        DeviceEntryPoints device = backend.device();
        if (device == null) {
            throw new IllegalStateException("this layer runs on the " + backend.name() + " backend; device pointers "
                    + "need the cuda backend");
        }
        return device;
    }

    // ---- accessors ----

    /** Reads the state once it is current on the host (a GPU backend waits and copies then). */
    public <T, E extends Exception> T read(Need need, Access<T, E> reader) throws E {
        return access(need, true, reader);
    }

    /** Reads what the host alone keeps (settings such as Batch Renormalization's limits): no copy. */
    public <T, E extends Exception> T readHostOnly(Need need, Access<T, E> reader) throws E {
        return access(need, false, reader);
    }

    /**
     * Writes the state: brings it to the host, runs {@code writer} (which checks its values before
     * it changes any) and stores it back where the backend keeps it.
     */
    public <E extends Exception> void write(Need need, Change<E> writer) throws E {
        access(need, true, s -> {
            writer.on(s);
            backend.push(s);
            return null;
        });
    }

    private <T, E extends Exception> T access(Need need, boolean pull, Access<T, E> work) throws E {
        guard.enter();
        try {
            require(need);
            if (pull) {
                backend.pull(state);
            }
            return work.on(state);
        } finally {
            exit();
        }
    }

    private void require(Need need) {
        switch (need) {
            case NOTHING -> {
            }
            case AFFINE -> {
                if (!config.affine()) {
                    throw new IllegalStateException("layer was built with affine(false): it has no gamma or beta");
                }
            }
            case TRACKING -> {
                if (!config.trackRunningStats()) {
                    throw new IllegalStateException(
                            "layer was built with trackRunningStats(false): it has no running statistics");
                }
            }
            case RENORMALIZATION -> {
                if (!config.batchRenormalization()) {
                    throw new IllegalStateException("layer was built without batchRenormalization(rmax, dmax)");
                }
            }
            case FORWARD -> {
                if (state.savedShape == null) {
                    throw new IllegalStateException("no forward has run yet, so there are no saved statistics");
                }
            }
        }
    }

    // ---- synchronized steps: the caller claims the layer for the whole step ----

    /** Claims the layer for a synchronized step over {@code shape}, or with no values of its own (null). */
    public void enterStep(Shape shape) {
        if (shape == null) {
            guard.enter();
        } else {
            guard.enter(shape, config.channels(), false); // one worker may hold one value per channel
        }
    }

    /** Ends a call or step that {@link #enterStep} began. */
    public void exit() {
        if (guard.exit()) {
            backend.close();
            staging.release();
        }
    }

    /** A training forward with the step's statistics over {@code count} values (every worker's). */
    public void forwardWithStatistics(Shape shape, float[] x, float[] y, double[] mean, double[] variance, long count) {
        requireStep();
        int elements = HostArguments.hostCount(shape);
        HostArguments.checkRange("x", x, 0, elements, shape);
        HostArguments.checkRange("y", y, 0, elements, shape);
        HostArguments.checkNoPartialOverlap(x, 0, y, 0, elements);
        backend.forwardTrainingWithStatistics(state, shape, x, 0, y, 0, mean, variance, count);
    }

    /** The backward of {@link #forwardWithStatistics} with the step's (all-reduced) sums. */
    public void backwardWithSums(Shape shape, float[] x, float[] dy, float[] dx, double[] sumDy, double[] sumDyCentered,
            long count) {
        requireStep();
        state.checkBackwardShape(shape);
        int elements = HostArguments.hostCount(shape);
        HostArguments.checkRange("x", x, 0, elements, shape);
        HostArguments.checkRange("dy", dy, 0, elements, shape);
        HostArguments.checkRange("dx", dx, 0, elements, shape);
        HostArguments.checkNoPartialOverlap(dy, 0, dx, 0, elements);
        HostArguments.checkNoPartialOverlap(x, 0, dx, 0, elements);
        backend.backwardWithSums(state, shape, x, 0, dy, 0, dx, 0, sumDy, sumDyCentered, count);
    }

    /** A worker with no values of its own: commits the step's statistics as the others do. */
    public void commitEmptyForward(double[] mean, double[] variance, long count) {
        requireStep();
        backend.pull(state);
        int channels = config.channels();
        float[] invStd = new float[channels];
        float[] r = config.batchRenormalization() ? new float[channels] : null;
        float[] d = config.batchRenormalization() ? new float[channels] : null;
        state.batchCorrections(mean, variance, invStd, r, d);
        state.commitBatch(null, mean, variance, invStd, config.trackRunningStats(), r, d, count);
        backend.push(state);
    }

    /** A worker with no values of its own in a synchronized backward: the gradients of the sums. */
    public void commitEmptyBackward(double[] sumDy, double[] sumDyCentered) {
        requireStep();
        if (!config.affine()) {
            return;
        }
        backend.pull(state);
        state.gradientsFromSums(sumDy, sumDyCentered);
        state.commitGradients();
        backend.push(state);
    }

    /** The exact mean the latest forward subtracted (a synchronized backward's local sums need it). */
    public double[] savedMeanExact() {
        requireStep();
        require(Need.FORWARD);
        backend.pull(state);
        return state.savedMean.clone();
    }

    private void requireStep() {
        if (!guard.heldByCurrentThread()) {
            throw new IllegalStateException("a synchronized step's parts run inside enterStep and exit");
        }
    }

    // ---- lifecycle ----

    private void enter(Operation operation, Shape shape) {
        boolean needsBatchStatistics = switch (operation) {
            case TRAINING -> true;
            case INFERENCE -> !config.trackRunningStats();
            case BACKWARD -> false;
        };
        guard.enter(shape, config.channels(), needsBatchStatistics);
    }

    /** Releases the backend's memory and the staging arrays, now or when the running call exits. Idempotent. */
    public void close() {
        if (guard.close()) {
            backend.close();
            staging.release();
        }
    }
}

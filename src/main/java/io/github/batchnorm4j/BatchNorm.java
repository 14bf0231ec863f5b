package io.github.batchnorm4j;

import io.github.batchnorm4j.internal.Backends;
import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.HostArguments;
import io.github.batchnorm4j.internal.HostStaging;
import io.github.batchnorm4j.internal.LayerGuard;
import io.github.batchnorm4j.internal.LayerState;
import io.github.batchnorm4j.internal.cpu.RunSums;
import io.github.batchnorm4j.internal.cpu.WorkerPool;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.io.StateFile;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;

/**
 * One batch-normalization layer with running statistics: create one per network layer.
 *
 * <p>Training ({@link #forwardTraining}) normalizes each channel of a mini-batch with the batch's
 * own mean mu_B and biased variance var_B over its m = N*H*W values:
 * {@code y = gamma * (x - mu_B) / sqrt(var_B + eps) + beta}, and folds mu_B and var_B (unbiased
 * by default) into the running statistics with weight w ({@link BatchNormConfig#newBatchWeight}):
 * {@code running = (1 - w) * running + w * batch}. Inference ({@link #forwardInference})
 * normalizes with the running statistics, so any batch size works, a single example included.
 * {@link #backward} differentiates the latest forward.
 *
 * <p>Host data come as float arrays (with an offset) or float buffers, in the layout the
 * {@link Shape} names. Outputs may be the same memory as inputs (same array and offset) for
 * in-place use; partial overlap is not allowed. On an exception the layer's state (gamma, beta,
 * running statistics, count, saved statistics) is as it was before the call; output contents are
 * then unspecified.
 *
 * <p>A layer is not thread-safe: use from two threads at once is detected and refused. Different
 * layers may be used from different threads freely.
 */
public final class BatchNorm implements AutoCloseable {
    private final BatchNormConfig config;
    final LayerState state;
    private final BatchNormBackend backend;
    private DeviceBatchNorm device;
    private final LayerGuard guard = new LayerGuard();

    private final HostStaging staging = new HostStaging();

    BatchNorm(BatchNormConfig config, BatchNormBackend backend) {
        this.config = config;
        this.state = new LayerState(config);
        this.backend = backend;
    }

    /** A builder for a layer with {@code channels} channels and PyTorch's defaults otherwise. */
    public static BatchNormBuilder builder(int channels) {
        return new BatchNormBuilder(channels);
    }

    /**
     * A new layer with the settings and the state recorded in {@code file} (written by
     * {@link #save}). For a plain PyTorch state_dict, build the layer and call {@link #loadState}.
     */
    public static BatchNorm load(Path file) throws IOException {
        StateFile stored = StateFile.read(file);
        BatchNorm layer = stored.recordedLayer(file);
        stored.applyTo(layer.state);
        layer.backend.push(layer.state);
        return layer;
    }

    public BatchNormConfig config() {
        return config;
    }

    /**
     * The backend that new layers get, and why: {@code cuda: <device>} or {@code cpu: <reason>}.
     * Probes for CUDA once per JVM.
     */
    public static String backendReport() {
        return Backends.describe();
    }

    /**
     * Which implementation of the CPU loops this JVM runs: the Vector API (the JVM was started
     * with {@code --add-modules jdk.incubator.vector}) or the plain-Java twin, with how to get the
     * other. Results are bitwise the same; the speed is not.
     */
    public static String cpuLoopsReport() {
        return RunSums.describe();
    }

    /** Worker threads the CPU path splits each call over ({@code -Dbatchnorm4j.cpu.threads}, else the cores). */
    public static int cpuThreads() {
        return WorkerPool.shared().threads();
    }

    /**
     * This layer's entry points for device memory the caller owns (JCuda {@code CUdeviceptr}s and
     * {@code CUstream}s), for dropping the layer into a JCuda pipeline without copies. The layer
     * must run on the cuda backend; they share its state and its single-thread rule.
     *
     * @throws IllegalStateException when the layer runs on the CPU, or is closed
     */
    public DeviceBatchNorm device() {
        requireOpen();
        if (!(backend instanceof CudaBackend cuda)) {
            throw new IllegalStateException("this layer runs on the " + backend.name() + " backend; device pointers "
                    + "need the cuda backend (" + Backends.describe() + ")");
        }
        if (device == null) {
            device = new DeviceBatchNorm(this, cuda);
        }
        return device;
    }

    /** The backend that runs this layer's arithmetic, such as {@code cpu}. */
    public String backendName() {
        return backend.name();
    }

    // ---- forward ----

    /** Training forward on arrays holding exactly {@code shape.elementCount()} floats. See the class comment. */
    public void forwardTraining(Shape shape, float[] x, float[] y) {
        forwardTraining(shape, HostArguments.exact("x", x, shape), 0, HostArguments.exact("y", y, shape), 0);
    }

    /** Training forward reading x from {@code xOffset} and writing y from {@code yOffset}. */
    public void forwardTraining(Shape shape, float[] x, int xOffset, float[] y, int yOffset) {
        enter(shape, true);
        try {
            int count = HostArguments.hostCount(shape);
            HostArguments.checkRange("x", x, xOffset, count, shape);
            HostArguments.checkRange("y", y, yOffset, count, shape);
            HostArguments.checkNoPartialOverlap(x, xOffset, y, yOffset, count);
            backend.forwardTraining(state, shape, x, xOffset, y, yOffset);
        } finally {
            exit();
        }
    }

    /** Training forward from x's position to y's position; buffer positions are left unchanged. */
    public void forwardTraining(Shape shape, FloatBuffer x, FloatBuffer y) {
        enter(shape, true);
        try {
            int count = HostArguments.hostCount(shape);
            HostArguments.checkBuffer("x", x, count, shape, false);
            HostArguments.checkBuffer("y", y, count, shape, true);
            float[] xs = staging.input(x, count, 0);
            float[] ys = staging.outputArray(y, count, 1);
            HostArguments.checkNoPartialOverlap(xs, HostStaging.offset(x, xs), ys, HostStaging.offset(y, ys), count);
            backend.forwardTraining(state, shape, xs, HostStaging.offset(x, xs), ys, HostStaging.offset(y, ys));
            HostStaging.finishOutput(y, ys, count);
        } finally {
            exit();
        }
    }

    /** Inference forward with the running statistics, on arrays of exactly the shape's size. */
    public void forwardInference(Shape shape, float[] x, float[] y) {
        forwardInference(shape, HostArguments.exact("x", x, shape), 0, HostArguments.exact("y", y, shape), 0);
    }

    /**
     * Inference forward: {@code y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta},
     * for any N, 1 included. A layer that does not track running statistics uses the batch's own
     * (as PyTorch does), which needs more than one value per channel.
     */
    public void forwardInference(Shape shape, float[] x, int xOffset, float[] y, int yOffset) {
        enter(shape, !config.trackRunningStats());
        try {
            int count = HostArguments.hostCount(shape);
            HostArguments.checkRange("x", x, xOffset, count, shape);
            HostArguments.checkRange("y", y, yOffset, count, shape);
            HostArguments.checkNoPartialOverlap(x, xOffset, y, yOffset, count);
            backend.forwardInference(state, shape, x, xOffset, y, yOffset);
        } finally {
            exit();
        }
    }

    /** Inference forward from x's position to y's position; buffer positions are left unchanged. */
    public void forwardInference(Shape shape, FloatBuffer x, FloatBuffer y) {
        enter(shape, !config.trackRunningStats());
        try {
            int count = HostArguments.hostCount(shape);
            HostArguments.checkBuffer("x", x, count, shape, false);
            HostArguments.checkBuffer("y", y, count, shape, true);
            float[] xs = staging.input(x, count, 0);
            float[] ys = staging.outputArray(y, count, 1);
            HostArguments.checkNoPartialOverlap(xs, HostStaging.offset(x, xs), ys, HostStaging.offset(y, ys), count);
            backend.forwardInference(state, shape, xs, HostStaging.offset(x, xs), ys, HostStaging.offset(y, ys));
            HostStaging.finishOutput(y, ys, count);
        } finally {
            exit();
        }
    }

    // ---- backward ----

    /** Backward on arrays of exactly the shape's size. See {@link #backward(Shape, float[], int, float[], int, float[], int)}. */
    public void backward(Shape shape, float[] x, float[] dy, float[] dx) {
        backward(shape, HostArguments.exact("x", x, shape), 0, HostArguments.exact("dy", dy, shape), 0, HostArguments.exact("dx", dx, shape), 0);
    }

    /**
     * Gradients of the latest forward, which must have had the same shape, given its input x and
     * the gradient dy of its output. Writes dx; for an affine layer also sets
     * {@link #gammaGradient()} = sum(dy * xhat) and {@link #betaGradient()} = sum(dy) (overwritten,
     * not accumulated). After a training forward:
     * {@code dx = gamma * invstd / m * (m * dy - sum(dy) - xhat * sum(dy * xhat))}; after an
     * inference forward the statistics are constants: {@code dx = dy * gamma * invstd}.
     * dx may be dy (same array and offset). NaN or Infinity in dy or x, where the gradient sums see
     * it (training, or an affine layer), throws and leaves gamma's and beta's gradients as they were;
     * dx is then undefined.
     */
    public void backward(Shape shape, float[] x, int xOffset, float[] dy, int dyOffset, float[] dx, int dxOffset) {
        enter(shape, false);
        try {
            state.checkBackwardShape(shape);
            int count = HostArguments.hostCount(shape);
            HostArguments.checkRange("x", x, xOffset, count, shape);
            HostArguments.checkRange("dy", dy, dyOffset, count, shape);
            HostArguments.checkRange("dx", dx, dxOffset, count, shape);
            HostArguments.checkNoPartialOverlap(dy, dyOffset, dx, dxOffset, count);
            HostArguments.checkNoPartialOverlap(x, xOffset, dx, dxOffset, count);
            backend.backward(state, shape, x, xOffset, dy, dyOffset, dx, dxOffset);
        } finally {
            exit();
        }
    }

    /** Backward on buffers, from their positions; positions are left unchanged. */
    public void backward(Shape shape, FloatBuffer x, FloatBuffer dy, FloatBuffer dx) {
        enter(shape, false);
        try {
            state.checkBackwardShape(shape);
            int count = HostArguments.hostCount(shape);
            HostArguments.checkBuffer("x", x, count, shape, false);
            HostArguments.checkBuffer("dy", dy, count, shape, false);
            HostArguments.checkBuffer("dx", dx, count, shape, true);
            float[] xs = staging.input(x, count, 0);
            float[] dys = staging.input(dy, count, 1);
            float[] dxs = staging.outputArray(dx, count, 2);
            HostArguments.checkNoPartialOverlap(dys, HostStaging.offset(dy, dys), dxs, HostStaging.offset(dx, dxs), count);
            HostArguments.checkNoPartialOverlap(xs, HostStaging.offset(x, xs), dxs, HostStaging.offset(dx, dxs), count);
            backend.backward(state, shape, xs, HostStaging.offset(x, xs), dys, HostStaging.offset(dy, dys), dxs, HostStaging.offset(dx, dxs));
            HostStaging.finishOutput(dx, dxs, count);
        } finally {
            exit();
        }
    }

    // ---- synchronized batch norm (SyncBatchNorm) ----

    /** Training forward with given batch statistics over {@code count} values (every worker's). */
    void forwardTrainingWithStatistics(Shape shape, float[] x, float[] y, double[] mean, double[] variance,
            long count) {
        enter(shape, false); // this worker's share may hold one value per channel; the whole has more
        try {
            int elements = HostArguments.hostCount(shape);
            HostArguments.checkRange("x", x, 0, elements, shape);
            HostArguments.checkRange("y", y, 0, elements, shape);
            HostArguments.checkNoPartialOverlap(x, 0, y, 0, elements);
            backend.forwardTrainingWithStatistics(state, shape, x, 0, y, 0, mean, variance, count);
        } finally {
            exit();
        }
    }

    /** Backward of {@link #forwardTrainingWithStatistics} with given (all-reduced) sums. */
    void backwardWithSums(Shape shape, float[] x, float[] dy, float[] dx, double[] sumDy, double[] sumDyCentered,
            long count) {
        enter(shape, false);
        try {
            state.checkBackwardShape(shape);
            int elements = HostArguments.hostCount(shape);
            HostArguments.checkRange("x", x, 0, elements, shape);
            HostArguments.checkRange("dy", dy, 0, elements, shape);
            HostArguments.checkRange("dx", dx, 0, elements, shape);
            HostArguments.checkNoPartialOverlap(dy, 0, dx, 0, elements);
            HostArguments.checkNoPartialOverlap(x, 0, dx, 0, elements);
            backend.backwardWithSums(state, shape, x, 0, dy, 0, dx, 0, sumDy, sumDyCentered, count);
        } finally {
            exit();
        }
    }

    /**
     * A worker with no values of its own in a synchronized step: commits the step's statistics
     * (and running update) as the others do, so every worker's state stays the same.
     */
    void commitEmptyForward(double[] mean, double[] variance, long count) {
        requireOpen();
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
    void commitEmptyBackward(double[] sumDy, double[] sumDyCentered) {
        requireOpen();
        if (!config.affine()) {
            return;
        }
        backend.pull(state);
        for (int c = 0; c < config.channels(); c++) {
            double sumDyXhat = sumDyCentered[c] * state.savedInvStd[c];
            state.nextGammaGradient[c] = (float) state.gammaGradient(c, sumDyXhat, sumDy[c]);
            state.nextBetaGradient[c] = (float) sumDy[c];
        }
        state.commitGradients();
        backend.push(state);
    }

    /** The exact mean the latest forward subtracted (a synchronized backward's local sums need it). */
    double[] savedMeanExact() {
        requireForward();
        backend.pull(state);
        return state.savedMean.clone();
    }

    // ---- parameters and statistics ----

    /** A copy of gamma (the per-channel scale). */
    public float[] gamma() {
        requireAffine();
        backend.pull(state);
        return state.gamma.clone();
    }

    /** A copy of beta (the per-channel shift). */
    public float[] beta() {
        requireAffine();
        backend.pull(state);
        return state.beta.clone();
    }

    /** Sets gamma from a copy of {@code values}: C finite floats. */
    public void setGamma(float[] values) {
        requireAffine();
        backend.pull(state);
        state.setChannelValues("gamma", values, state.gamma, false);
        backend.push(state);
    }

    /** Sets beta from a copy of {@code values}: C finite floats. */
    public void setBeta(float[] values) {
        requireAffine();
        backend.pull(state);
        state.setChannelValues("beta", values, state.beta, false);
        backend.push(state);
    }

    /** A copy of the running mean. */
    public float[] runningMean() {
        requireTracking();
        backend.pull(state);
        return state.runningMean.clone();
    }

    /** A copy of the running variance. */
    public float[] runningVar() {
        requireTracking();
        backend.pull(state);
        return state.runningVar.clone();
    }

    /** Sets the running mean: C finite floats. */
    public void setRunningMean(float[] values) {
        requireTracking();
        backend.pull(state);
        state.setChannelValues("running mean", values, state.runningMean, false);
        backend.push(state);
    }

    /** Sets the running variance: C finite, non-negative floats. */
    public void setRunningVar(float[] values) {
        requireTracking();
        backend.pull(state);
        state.setChannelValues("running variance", values, state.runningVar, true);
        backend.push(state);
    }

    /**
     * Replaces the running statistics by {@code population}'s: running_mean = its mean, running_var
     * = its variance by this layer's {@link BatchNormConfig#runningVariance} estimator (unbiased by
     * default), num_batches_tracked = its batch count; each rounded to float. Gamma and beta are
     * kept. Statistics of another C, too few values, or a variance beyond float throw and change
     * nothing.
     */
    public void setRunningStatistics(PopulationStatistics population) {
        requireTracking();
        if (population.channels() != config.channels()) {
            throw new IllegalArgumentException("population statistics have C=" + population.channels()
                    + " but the layer has C=" + config.channels());
        }
        double[] mean = population.mean();
        double[] variance = population.variance(config.runningVariance());
        float[] newMean = new float[mean.length], newVar = new float[mean.length];
        for (int c = 0; c < mean.length; c++) {
            newMean[c] = (float) mean[c];
            newVar[c] = (float) variance[c];
            if (!Float.isFinite(newMean[c]) || !Float.isFinite(newVar[c])) {
                throw new IllegalArgumentException("population statistics of channel " + c + " (mean " + mean[c]
                        + ", variance " + variance[c] + ") do not fit a float");
            }
        }
        backend.pull(state);
        state.setChannelValues("population mean", newMean, state.runningMean, false);
        state.setChannelValues("population variance", newVar, state.runningVar, true);
        state.numBatchesTracked = population.batches();
        backend.push(state);
    }

    /**
     * The affine map (scale, shift) per channel that {@link #forwardInference} computes from the
     * running statistics, in fp64; see {@link InferenceAffine#foldInto} to fold it into the
     * preceding layer. A layer without affine parameters has gamma 1 and beta 0.
     *
     * @throws IllegalStateException when the layer does not track running statistics (its
     *     inference then uses each batch's own, which no fixed map describes)
     */
    public InferenceAffine inferenceAffine() {
        requireTracking();
        backend.pull(state);
        int channels = config.channels();
        double[] scale = new double[channels], shift = new double[channels];
        for (int c = 0; c < channels; c++) {
            double gamma = config.affine() ? state.gamma[c] : 1.0;
            double beta = config.affine() ? state.beta[c] : 0.0;
            scale[c] = gamma / Math.sqrt(state.runningVar[c] + config.eps());
            shift[c] = beta - scale[c] * state.runningMean[c];
        }
        return new InferenceAffine(scale, shift);
    }

    /** How many training batches the running statistics have seen (t, PyTorch's num_batches_tracked). */
    public long numBatchesTracked() {
        requireTracking();
        backend.pull(state);
        return state.numBatchesTracked;
    }

    /** Sets t, which the cumulative average and bias correction weigh the next batch by. */
    public void setNumBatchesTracked(long count) {
        requireTracking();
        if (count < 0) {
            throw new IllegalArgumentException("num_batches_tracked must be >= 0, got " + count);
        }
        backend.pull(state);
        state.numBatchesTracked = count;
        backend.push(state);
    }

    /**
     * Sets Batch Renormalization's limits for the coming training forwards: r is clipped to
     * [1/rmax, rmax] and d to [-dmax, dmax]. Ioffe's schedule starts at rmax = 1, dmax = 0 (plain
     * batch norm) and relaxes them as the running statistics settle. Needs a layer built with
     * {@link BatchNormBuilder#batchRenormalization}; bad limits throw and change nothing. The limits
     * are launch arguments on CUDA: a training step captured in a CUDA graph keeps those of its
     * capture.
     */
    public void setRenormLimits(double rmax, double dmax) {
        requireRenormalization();
        BatchNormConfig.checkRenormLimits(rmax, dmax);
        state.renormRmax = rmax;
        state.renormDmax = dmax;
    }

    /** Batch Renormalization's current rmax. */
    public double renormRmax() {
        requireRenormalization();
        return state.renormRmax;
    }

    /** Batch Renormalization's current dmax. */
    public double renormDmax() {
        requireRenormalization();
        return state.renormDmax;
    }

    /** The mean the latest forward subtracted (batch mean in training), as float. */
    public float[] savedMean() {
        requireForward();
        backend.pull(state);
        float[] copy = new float[config.channels()];
        for (int c = 0; c < copy.length; c++) {
            copy[c] = (float) state.savedMean[c];
        }
        return copy;
    }

    /** 1/sqrt(var + eps) the latest forward used, as saved for backward. */
    public float[] savedInvStd() {
        requireForward();
        backend.pull(state);
        return state.savedInvStd.clone();
    }

    /** d loss / d gamma from the latest backward. */
    public float[] gammaGradient() {
        requireAffine();
        backend.pull(state);
        return state.gammaGradient.clone();
    }

    /** d loss / d beta from the latest backward. */
    public float[] betaGradient() {
        requireAffine();
        backend.pull(state);
        return state.betaGradient.clone();
    }

    // ---- persistence ----

    /** Writes parameters, running statistics and settings to an {@code .npz} file, atomically. */
    public void save(Path file) throws IOException {
        requireOpen();
        backend.pull(state);
        StateFile.write(file, StateFile.membersOf(state));
    }

    /**
     * Loads parameters and running statistics from an {@code .npz} written by {@link #save} or from
     * a PyTorch state_dict saved with numpy; this layer's settings stay as built. Every member is
     * checked (name, dtype, shape against this layer's C, finite, variance non-negative) before
     * anything changes.
     */
    public void loadState(Path file) throws IOException {
        requireOpen();
        StateFile stored = StateFile.read(file); // read and checked before the device is touched
        backend.pull(state);
        stored.applyTo(state);
        backend.push(state);
    }

    /** Releases the backend's memory. Idempotent; every later call but close throws. */
    @Override
    public void close() {
        if (guard.close()) {
            releaseMemory();
        }
    }

    /** The backend's memory and the staging arrays: after close a layer holds only its C-sized state. */
    private void releaseMemory() {
        backend.close();
        staging.release();
    }

    @Override
    public String toString() {
        return config + " on " + backend.name();
    }

    // ---- validation ----

    void enter(Shape shape, boolean needsBatchStatistics) {
        guard.enter(shape, config.channels(), needsBatchStatistics);
    }

    void exit() {
        if (guard.exit()) {
            releaseMemory();
        }
    }

    private void requireOpen() {
        guard.requireOpen();
    }

    void requireOpenForDevice() {
        guard.requireOpen();
    }

    private void requireAffine() {
        requireOpen();
        if (!config.affine()) {
            throw new IllegalStateException("layer was built with affine(false): it has no gamma or beta");
        }
    }

    private void requireTracking() {
        requireOpen();
        if (!config.trackRunningStats()) {
            throw new IllegalStateException("layer was built with trackRunningStats(false): it has no running statistics");
        }
    }

    private void requireRenormalization() {
        requireOpen();
        if (!config.batchRenormalization()) {
            throw new IllegalStateException("layer was built without batchRenormalization(rmax, dmax)");
        }
    }

    private void requireForward() {
        requireOpen();
        if (state.savedShape == null) {
            throw new IllegalStateException("no forward has run yet, so there are no saved statistics");
        }
    }
}

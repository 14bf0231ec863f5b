package io.github.batchnorm4j;

import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.HostArguments;
import io.github.batchnorm4j.internal.LayerCore;
import io.github.batchnorm4j.internal.LayerCore.Need;
import io.github.batchnorm4j.internal.LayerCore.Operation;
import io.github.batchnorm4j.internal.LayerState;
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
 * <p>A layer is not thread-safe: every method but {@link #config}, {@link #backendName} and
 * {@link #close} claims the layer while it runs, so use from two threads at once is refused with
 * an IllegalStateException, and a close while a call runs frees memory only when that call ends.
 * Different layers may be used from different threads freely.
 */
public final class BatchNorm implements AutoCloseable {
    private final LayerCore core;

    BatchNorm(BatchNormConfig config, BatchNormBackend backend) {
        this.core = new LayerCore(config, backend);
    }

    /** A builder for a layer with {@code channels} channels and PyTorch's defaults otherwise. */
    public static BatchNormBuilder builder(int channels) {
        return new BatchNormBuilder(channels);
    }

    /**
     * A new layer with the settings and the state recorded in {@code file} (written by
     * {@link #save}). For a plain PyTorch state_dict, build the layer and call {@link #load}.
     */
    public static BatchNorm fromFile(Path file) throws IOException {
        StateFile stored = StateFile.read(file);
        BatchNorm layer = BatchNormBuilder.buildRecorded(stored.recordedSettings(file), file);
        try {
            layer.core.write(Need.NOTHING, stored::applyTo);
        } catch (IOException | RuntimeException | Error e) {
            layer.close(); // the layer is the caller's only once it holds the file's state
            throw e;
        }
        return layer;
    }

    public BatchNormConfig config() {
        return core.config();
    }

    /**
     * This layer's entry points for device memory the caller owns (JCuda {@code CUdeviceptr}s and
     * {@code CUstream}s), for dropping the layer into a JCuda pipeline without copies. The layer
     * must run on the cuda backend; they share its state and its single-thread rule.
     *
     * @throws IllegalStateException when the layer runs on the CPU, or is closed
     */
    public DeviceBatchNorm device() {
        if (!core.hasDevice()) {
            throw new IllegalStateException("this layer runs on the " + core.backendName() + " backend; device "
                    + "pointers need the cuda backend (" + BatchNormRuntime.backendReport() + ")");
        }
        return new DeviceBatchNorm(core); // a view: it holds nothing but the core
    }

    /** The backend that runs this layer's arithmetic, such as {@code cpu}. */
    public String backendName() {
        return core.backendName();
    }

    /** Training forward on arrays holding exactly {@code shape.elementCount()} floats. See the class comment. */
    public void forwardTraining(Shape shape, float[] x, float[] y) {
        forwardTraining(shape, HostArguments.exact("x", x, shape), 0, HostArguments.exact("y", y, shape), 0);
    }

    /** Training forward reading x from {@code xOffset} and writing y from {@code yOffset}. */
    public void forwardTraining(Shape shape, float[] x, int xOffset, float[] y, int yOffset) {
        core.run(Operation.TRAINING, shape, x, xOffset, null, 0, y, yOffset);
    }

    /** Training forward from x's position to y's position; buffer positions are left unchanged. */
    public void forwardTraining(Shape shape, FloatBuffer x, FloatBuffer y) {
        core.run(Operation.TRAINING, shape, x, null, y);
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
        core.run(Operation.INFERENCE, shape, x, xOffset, null, 0, y, yOffset);
    }

    /** Inference forward from x's position to y's position; buffer positions are left unchanged. */
    public void forwardInference(Shape shape, FloatBuffer x, FloatBuffer y) {
        core.run(Operation.INFERENCE, shape, x, null, y);
    }

    /** Backward on arrays of exactly the shape's size. See {@link #backward(Shape, float[], int, float[], int, float[], int)}. */
    public void backward(Shape shape, float[] x, float[] dy, float[] dx) {
        backward(shape, HostArguments.exact("x", x, shape), 0, HostArguments.exact("dy", dy, shape), 0,
                HostArguments.exact("dx", dx, shape), 0);
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
        core.run(Operation.BACKWARD, shape, x, xOffset, dy, dyOffset, dx, dxOffset);
    }

    /** Backward on buffers, from their positions; positions are left unchanged. */
    public void backward(Shape shape, FloatBuffer x, FloatBuffer dy, FloatBuffer dx) {
        core.run(Operation.BACKWARD, shape, x, dy, dx);
    }

    /** The core, for {@link SyncBatchNorm}'s steps. */
    LayerCore core() {
        return core;
    }

    /** A copy of gamma (the per-channel scale). */
    public float[] gamma() {
        return core.read(Need.AFFINE, s -> s.gamma.clone());
    }

    /** A copy of beta (the per-channel shift). */
    public float[] beta() {
        return core.read(Need.AFFINE, s -> s.beta.clone());
    }

    /** Sets gamma from a copy of {@code values}: C finite floats. */
    public void setGamma(float[] values) {
        core.write(Need.AFFINE, s -> s.setChannelValues("gamma", values, s.gamma, false));
    }

    /** Sets beta from a copy of {@code values}: C finite floats. */
    public void setBeta(float[] values) {
        core.write(Need.AFFINE, s -> s.setChannelValues("beta", values, s.beta, false));
    }

    /** A copy of the running mean. */
    public float[] runningMean() {
        return core.read(Need.TRACKING, s -> s.runningMean.clone());
    }

    /** A copy of the running variance. */
    public float[] runningVar() {
        return core.read(Need.TRACKING, s -> s.runningVar.clone());
    }

    /** Sets the running mean: C finite floats. */
    public void setRunningMean(float[] values) {
        core.write(Need.TRACKING, s -> s.setChannelValues("running mean", values, s.runningMean, false));
    }

    /** Sets the running variance: C finite, non-negative floats. */
    public void setRunningVar(float[] values) {
        core.write(Need.TRACKING, s -> s.setChannelValues("running variance", values, s.runningVar, true));
    }

    /**
     * Replaces the running statistics by {@code population}'s: running_mean = its mean, running_var
     * = its variance by this layer's {@link BatchNormConfig#runningVariance} estimator (unbiased by
     * default), num_batches_tracked = its batch count; each rounded to float. Gamma and beta are
     * kept. Statistics of another C, too few values, or a variance beyond float throw and change
     * nothing.
     */
    public void setRunningStatistics(PopulationStatistics population) {
        core.write(Need.TRACKING, s -> s.setRunningStatistics(population.channels(), population::mean,
                () -> population.variance(s.config.runningVariance()), population.batches()));
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
        return core.read(Need.TRACKING, LayerState::inferenceAffine);
    }

    /** How many training batches the running statistics have seen (t, PyTorch's num_batches_tracked). */
    public long numBatchesTracked() {
        return core.read(Need.TRACKING, s -> s.numBatchesTracked);
    }

    /** Sets t, which the cumulative average and bias correction weigh the next batch by. */
    public void setNumBatchesTracked(long count) {
        core.write(Need.TRACKING, s -> s.setNumBatchesTracked(count));
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
        core.readHostOnly(Need.RENORMALIZATION, s -> {
            BatchNormConfig.checkRenormLimits(rmax, dmax);
            s.renormRmax = rmax;
            s.renormDmax = dmax;
            return null;
        });
    }

    /** Batch Renormalization's current rmax (the builder's, {@link BatchNormConfig#initialRenormRmax}, until set). */
    public double renormRmax() {
        return core.readHostOnly(Need.RENORMALIZATION, s -> s.renormRmax);
    }

    /** Batch Renormalization's current dmax. */
    public double renormDmax() {
        return core.readHostOnly(Need.RENORMALIZATION, s -> s.renormDmax);
    }

    /** The mean the latest forward subtracted (batch mean in training), as float. */
    public float[] savedMean() {
        return core.read(Need.FORWARD, LayerState::savedMeanAsFloat);
    }

    /** 1/sqrt(var + eps) the latest forward used, as saved for backward. */
    public float[] savedInvStd() {
        return core.read(Need.FORWARD, s -> s.savedInvStd.clone());
    }

    /** d loss / d gamma from the latest backward. */
    public float[] gammaGradient() {
        return core.read(Need.AFFINE, s -> s.gammaGradient.clone());
    }

    /** d loss / d beta from the latest backward. */
    public float[] betaGradient() {
        return core.read(Need.AFFINE, s -> s.betaGradient.clone());
    }

    /** Writes parameters, running statistics and settings to an {@code .npz} file, atomically. */
    public void save(Path file) throws IOException {
        StateFile.write(file, core.read(Need.NOTHING, StateFile::membersOf)); // a snapshot, written unclaimed
    }

    /**
     * Loads parameters and running statistics from an {@code .npz} written by {@link #save} or from
     * a PyTorch state_dict saved with numpy; this layer's settings stay as built. Every member is
     * checked (name, dtype, shape against this layer's C, finite, variance non-negative) before
     * anything changes.
     */
    public void load(Path file) throws IOException {
        StateFile stored = StateFile.read(file); // read and checked before the layer is claimed
        core.write(Need.NOTHING, stored::applyTo);
    }

    /** Releases the backend's memory, now or when a running call ends. Idempotent; every later call but close throws. */
    @Override
    public void close() {
        core.close();
    }

    @Override
    public String toString() {
        return config() + " on " + backendName();
    }
}

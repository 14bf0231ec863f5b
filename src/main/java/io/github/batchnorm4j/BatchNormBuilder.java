package io.github.batchnorm4j;

import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.backends.Backends;
import io.github.batchnorm4j.internal.io.StateFile.RecordedSettings;
import java.nio.file.Path;

/**
 * Settings of a layer, with PyTorch's defaults: eps 1e-5, momentum 0.1, unbiased running
 * variance, no bias correction, affine, tracking running statistics. Each setter checks its
 * value at once.
 */
public final class BatchNormBuilder {
    private final int channels;
    private double eps = BatchNormConfig.DEFAULT_EPS;
    private double momentum = BatchNormConfig.DEFAULT_MOMENTUM;
    private boolean cumulative;
    private VarianceEstimator runningVariance = VarianceEstimator.UNBIASED;
    private boolean biasCorrection;
    private boolean affine = true;
    private boolean trackRunningStats = true;
    private boolean synchronousCudaErrors = BatchNormProperty.CUDA_SYNCHRONOUS_ERRORS.booleanValue();
    private boolean batchRenormalization;
    private double renormRmax = Double.NaN;
    private double renormDmax = Double.NaN;

    BatchNormBuilder(int channels) {
        this.channels = BatchNormConfig.checkChannels(channels);
    }

    /** The variance floor in 1/sqrt(var + eps): positive and finite. */
    public BatchNormBuilder eps(double value) {
        eps = BatchNormConfig.checkEps(value);
        return this;
    }

    /** Weight of the new batch, in [0, 1] (PyTorch's momentum; default 0.1). */
    public BatchNormBuilder momentum(double value) {
        momentum = BatchNormConfig.checkMomentum(value);
        cumulative = false;
        return this;
    }

    /** Weight of the old value, in [0, 1] (Keras's momentum, e.g. 0.99); sets momentum = 1 - decay. */
    public BatchNormBuilder decay(double value) {
        momentum = 1 - BatchNormConfig.checkDecay(value);
        cumulative = false;
        return this;
    }

    /** The running statistics become the plain mean over all batches (weight 1/t; PyTorch's momentum=None). */
    public BatchNormBuilder cumulativeAverage() {
        cumulative = true;
        return this;
    }

    /** Which batch variance the running variance averages (default unbiased). */
    public BatchNormBuilder runningVariance(VarianceEstimator estimator) {
        runningVariance = BatchNormConfig.checkEstimator(estimator);
        return this;
    }

    /** Divide the exponential average by 1 - decay^t, so it is unbiased from the first batch. */
    public BatchNormBuilder biasCorrection(boolean enabled) {
        biasCorrection = enabled;
        return this;
    }

    /** Whether the layer has gamma and beta (default true). */
    public BatchNormBuilder affine(boolean enabled) {
        affine = enabled;
        return this;
    }

    /**
     * Whether each CUDA call on device memory synchronizes its stream and throws a bad batch's
     * error itself, as a debugging aid (default: {@link BatchNormProperty#CUDA_SYNCHRONOUS_ERRORS},
     * else false). See {@link DeviceBatchNorm}.
     */
    public BatchNormBuilder synchronousCudaErrors(boolean enabled) {
        synchronousCudaErrors = enabled;
        return this;
    }

    /** Whether training keeps running statistics (default true). */
    public BatchNormBuilder trackRunningStats(boolean enabled) {
        trackRunningStats = enabled;
        return this;
    }

    /**
     * Training with Batch Renormalization (Ioffe 2017, Algorithm 1; see
     * {@link BatchNormConfig#batchRenormalization}), starting with limits rmax (at least 1) and
     * dmax (at least 0). rmax = 1 with dmax = 0 is plain batch norm, bit for bit; the paper starts
     * there and relaxes the limits to 3 and 5 during training ({@code BatchNorm.setRenormLimits}).
     * Needs running statistics.
     */
    public BatchNormBuilder batchRenormalization(double rmax, double dmax) {
        BatchNormConfig.checkRenormLimits(rmax, dmax);
        batchRenormalization = true;
        renormRmax = rmax;
        renormDmax = dmax;
        return this;
    }

    /**
     * The layer, on the backend chosen once per JVM: CUDA where a device, its driver and the
     * kernels load, else the CPU; {@link BatchNormProperty#BACKEND} (over the environment variable
     * {@code BATCHNORM4J_BACKEND}) forces {@code cpu}, {@code cuda} or {@code auto}. Forcing cuda where it does not work throws {@link IllegalStateException}.
     */
    public BatchNorm build() {
        BatchNormConfig config = config(); // settings fail before any backend is probed
        return new BatchNorm(config, Backends.create());
    }

    /** The layer on a given backend (tests pin the CPU thread count this way). */
    BatchNorm build(BatchNormBackend backend) {
        return new BatchNorm(config(), backend);
    }

    /** A layer with the settings a state file records; settings the builder refuses name the file. */
    static BatchNorm buildRecorded(RecordedSettings recorded, Path file) throws StateFileException {
        BatchNormBuilder builder;
        try {
            builder = new BatchNormBuilder(recorded.channels())
                    .runningVariance(recorded.unbiasedRunningVariance() ? VarianceEstimator.UNBIASED
                            : VarianceEstimator.BIASED)
                    .biasCorrection(recorded.biasCorrection())
                    .affine(recorded.affine())
                    .trackRunningStats(recorded.trackRunningStats())
                    .eps(recorded.eps());
            if (recorded.batchRenormalization()) {
                builder.batchRenormalization(recorded.renormRmax(), recorded.renormDmax());
            }
            if (recorded.cumulativeAverage()) {
                builder.cumulativeAverage();
            } else {
                builder.momentum(recorded.momentum());
            }
            builder.config(); // checks the settings together
        } catch (IllegalArgumentException e) {
            throw new StateFileException(file, "recorded settings are invalid: " + e.getMessage());
        }
        return builder.build();
    }

    private BatchNormConfig config() {
        return new BatchNormConfig(channels, eps, momentum, cumulative, runningVariance, biasCorrection, affine,
                trackRunningStats, synchronousCudaErrors, batchRenormalization, renormRmax, renormDmax);
    }
}

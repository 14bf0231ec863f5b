package io.github.batchnorm4j;

/**
 * The immutable settings of one batch-norm layer. Built by {@link BatchNormBuilder}; each value
 * is validated here, once; the running-average rule lives in {@link #newBatchWeight(long)} so that
 * every backend updates the running statistics by the same formula.
 */
public final class BatchNormConfig {
    /** PyTorch's default momentum (weight of the new batch). */
    public static final double DEFAULT_MOMENTUM = 0.1;
    /** PyTorch's and cuDNN's default eps. */
    public static final double DEFAULT_EPS = 1e-5;

    private final int channels;
    private final double eps;
    private final double momentum;
    private final boolean cumulativeAverage;
    private final VarianceEstimator runningVariance;
    private final boolean biasCorrection;
    private final boolean affine;
    private final boolean trackRunningStats;
    private final boolean synchronousCudaErrors;
    private final boolean batchRenormalization;
    private final double renormRmax;
    private final double renormDmax;

    BatchNormConfig(int channels, double eps, double momentum, boolean cumulativeAverage,
            VarianceEstimator runningVariance, boolean biasCorrection, boolean affine,
            boolean trackRunningStats, boolean synchronousCudaErrors, boolean batchRenormalization, double renormRmax,
            double renormDmax) {
        checkChannels(channels);
        checkEps(eps);
        if (!cumulativeAverage) {
            checkMomentum(momentum);
        }
        if (biasCorrection && cumulativeAverage) {
            throw new IllegalArgumentException(
                    "bias correction applies to an exponential average; the cumulative average is unbiased already");
        }
        if (biasCorrection && momentum == 0) {
            throw new IllegalArgumentException(
                    "bias correction needs momentum > 0 (decay < 1): with momentum 0 the average never moves");
        }
        checkEstimator(runningVariance);
        if (batchRenormalization) {
            checkRenormLimits(renormRmax, renormDmax);
            if (!trackRunningStats) {
                throw new IllegalArgumentException("batch renormalization corrects the batch statistics towards the "
                        + "running ones, so it needs trackRunningStats(true)");
            }
        }
        this.channels = channels;
        this.eps = eps;
        this.momentum = cumulativeAverage ? Double.NaN : momentum;
        this.cumulativeAverage = cumulativeAverage;
        this.runningVariance = runningVariance;
        this.biasCorrection = biasCorrection;
        this.affine = affine;
        this.trackRunningStats = trackRunningStats;
        this.synchronousCudaErrors = synchronousCudaErrors;
        this.batchRenormalization = batchRenormalization;
        this.renormRmax = batchRenormalization ? renormRmax : Double.NaN;
        this.renormDmax = batchRenormalization ? renormDmax : Double.NaN;
    }

    // Each setting is checked here, once, with one message; the builder's setters call these.

    static int checkChannels(int channels) {
        if (channels <= 0) {
            throw new IllegalArgumentException("channels must be positive, got " + channels);
        }
        return channels;
    }

    static double checkEps(double eps) {
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be a positive finite number, got " + eps);
        }
        return eps;
    }

    static double checkMomentum(double momentum) {
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1] (weight of the new batch), got " + momentum);
        }
        return momentum;
    }

    static double checkDecay(double decay) {
        if (!(decay >= 0 && decay <= 1)) {
            throw new IllegalArgumentException("decay must be in [0, 1] (weight of the old value), got " + decay);
        }
        return decay;
    }

    /** Batch Renormalization's clipping limits: r in [1/rmax, rmax] and d in [-dmax, dmax]. */
    static void checkRenormLimits(double rmax, double dmax) {
        if (!(rmax >= 1) || Double.isInfinite(rmax)) {
            throw new IllegalArgumentException("renormalization rmax must be finite and at least 1 (r is clipped to "
                    + "[1/rmax, rmax]), got " + rmax);
        }
        if (!(dmax >= 0) || Double.isInfinite(dmax)) {
            throw new IllegalArgumentException("renormalization dmax must be finite and at least 0 (d is clipped to "
                    + "[-dmax, dmax]), got " + dmax);
        }
    }

    static VarianceEstimator checkEstimator(VarianceEstimator estimator) {
        if (estimator == null) {
            throw new IllegalArgumentException("running variance estimator must not be null");
        }
        return estimator;
    }

    /** C: the number of channels (features). */
    public int channels() {
        return channels;
    }

    public double eps() {
        return eps;
    }

    /** Weight of the new batch in the running average (PyTorch's momentum); NaN in cumulative mode. */
    public double momentum() {
        return momentum;
    }

    /** Weight of the old value in the running average (Keras's momentum, 1 - momentum); NaN in cumulative mode. */
    public double decay() {
        return 1 - momentum;
    }

    /** Whether the running statistics are the plain mean over all batches seen (weight 1/t). */
    public boolean cumulativeAverage() {
        return cumulativeAverage;
    }

    public VarianceEstimator runningVariance() {
        return runningVariance;
    }

    /** Whether the exponential average is divided by 1 - decay^t (as Adam does). */
    public boolean biasCorrection() {
        return biasCorrection;
    }

    /** Whether the layer has a learned scale gamma and shift beta. */
    public boolean affine() {
        return affine;
    }

    /**
     * Whether every call on device memory waits for its work and reports a bad batch itself, for
     * debugging; otherwise the next call or accessor reports it (see {@link DeviceBatchNorm}).
     * Host-array calls always report their own.
     */
    public boolean synchronousCudaErrors() {
        return synchronousCudaErrors;
    }

    /** Whether training keeps running statistics; without them inference uses the batch's own. */
    public boolean trackRunningStats() {
        return trackRunningStats;
    }

    /**
     * Whether training uses Batch Renormalization (Ioffe 2017): y = gamma * (xhat * r + d) + beta,
     * with r = clip(sigma_B / sigma, 1/rmax, rmax), d = clip((mu_B - mu) / sigma, -dmax, dmax),
     * sigma_B = sqrt(var_B + eps) and mu, sigma = sqrt(running_var + eps) the running statistics
     * before this batch's update. Backward treats r and d as constants; inference is unchanged.
     */
    public boolean batchRenormalization() {
        return batchRenormalization;
    }

    /** The rmax the layer starts with (see {@code BatchNorm.setRenormLimits}); NaN without renormalization. */
    public double initialRenormRmax() {
        return renormRmax;
    }

    /** The dmax the layer starts with; NaN without renormalization. */
    public double initialRenormDmax() {
        return renormDmax;
    }

    /**
     * The weight w of the new batch in {@code running = (1 - w) * running + w * batch} at update
     * number {@code t} (1 for the first batch).
     *
     * <p>Bias correction keeps the corrected average itself rather than the raw one: dividing the
     * raw average r_t = d r_{t-1} + (1 - d) x_t by (1 - d^t) is the same as updating the corrected
     * value with w = (1 - d) / (1 - d^t). At t = 1 that is 1, so the initial value never leaks in,
     * and setting or loading running statistics needs no hidden raw state.
     */
    public double newBatchWeight(long t) {
        if (t < 1) {
            throw new IllegalArgumentException("update number must be at least 1, got " + t);
        }
        if (cumulativeAverage) {
            return 1.0 / t;
        }
        if (biasCorrection) {
            return momentum / (1 - power(1 - momentum, t));
        }
        return momentum;
    }

    /**
     * d^t by squaring, in plain IEEE multiplications, so that the CUDA kernels, which compute the
     * weight from the device's own count (cuda/layer_record.cuh), round exactly alike. Its error,
     * a few ulps of d^t, matters only where 1 - d^t cancels, and there it is dwarfed by the
     * rounding of d = 1 - momentum itself.
     */
    private static double power(double d, long t) {
        double result = 1;
        double base = d;
        for (long e = t; e > 0; e >>= 1) {
            if ((e & 1) != 0) {
                result *= base;
            }
            base *= base;
        }
        return result;
    }

    @Override
    public String toString() {
        String average = cumulativeAverage ? "cumulative average"
                : "momentum " + momentum + (biasCorrection ? " with bias correction" : "");
        return "BatchNorm(C=" + channels + ", eps=" + eps + ", " + average + ", running variance "
                + runningVariance.name().toLowerCase() + (affine ? "" : ", no affine")
                + (trackRunningStats ? "" : ", no running statistics")
                + (batchRenormalization ? ", renormalization rmax " + renormRmax + " dmax " + renormDmax : "") + ")";
    }
}

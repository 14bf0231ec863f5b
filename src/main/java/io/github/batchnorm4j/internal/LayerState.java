package io.github.batchnorm4j.internal;

import io.github.batchnorm4j.BatchNormConfig;
import io.github.batchnorm4j.InferenceAffine;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.VarianceEstimator;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Everything a layer learns or remembers, on the host: gamma and beta, the running statistics and
 * the count of batches behind them, and the statistics the latest forward used, kept for backward.
 * Updates go through {@link #commitBatch}, which checks everything before it changes anything.
 */
public final class LayerState {
    public final BatchNormConfig config;
    public final float[] gamma;
    public final float[] beta;
    public final float[] runningMean;
    public final float[] runningVar;
    public long numBatchesTracked;

    /**
     * Counts changes to gamma, beta and the running statistics, so that a backend can keep what it
     * derives from them (inference coefficients) until they change. Every writer calls
     * {@link #parametersChanged}.
     */
    private long parametersVersion;
    /** The parameters version savedMean/savedInvStd were last filled from; -1 after a batch forward. */
    private long savedRunningVersion = -1;
    /** 1/sqrt(runningVar + eps), valid for parameters version {@code runningInvStdVersion}. */
    private final float[] runningInvStd;
    private long runningInvStdVersion = -1;

    /** Mean the latest forward subtracted, in fp64 (a float mean would cost 1e-4 relative on large-mean data). */
    public final double[] savedMean;
    /** 1/sqrt(var + eps) the latest forward multiplied by. */
    public final float[] savedInvStd;
    /** Shape of the latest forward; null before the first. */
    public Shape savedShape;
    /** Whether the latest forward used batch statistics (so backward differentiates through them). */
    public boolean savedFromBatch;

    public final float[] gammaGradient;
    public final float[] betaGradient;
    /** Where a backward writes its gradients; copied in by {@link #commitGradients} once it succeeded. */
    public final float[] nextGammaGradient;
    public final float[] nextBetaGradient;

    private final float[] nextRunningMean;
    private final float[] nextRunningVar;

    /** Batch Renormalization's current limits (the layer's schedule may change them); NaN when off. */
    public double renormRmax;
    public double renormDmax;
    /**
     * r and d of the latest training forward (Batch Renormalization), which backward treats as
     * constants; null when the layer does not renormalize. {@link #savedRenormalized} says
     * whether the latest forward used them (a training forward of a renormalizing layer).
     */
    public final float[] savedRenormR;
    public final float[] savedRenormD;
    public boolean savedRenormalized;

    public LayerState(BatchNormConfig config) {
        int c = config.channels();
        this.config = config;
        gamma = new float[c];
        beta = new float[c];
        runningMean = new float[c];
        runningVar = new float[c];
        Arrays.fill(gamma, 1f);
        Arrays.fill(runningVar, 1f);
        savedMean = new double[c];
        savedInvStd = new float[c];
        gammaGradient = new float[c];
        betaGradient = new float[c];
        nextGammaGradient = new float[c];
        nextBetaGradient = new float[c];
        nextRunningMean = new float[c];
        nextRunningVar = new float[c];
        runningInvStd = new float[c];
        renormRmax = config.initialRenormRmax();
        renormDmax = config.initialRenormDmax();
        savedRenormR = config.batchRenormalization() ? new float[c] : null;
        savedRenormD = config.batchRenormalization() ? new float[c] : null;
    }

    /**
     * Batch Renormalization's r and d for channel c, rounded to float, from the batch's mean and
     * biased variance and the running statistics before this batch's update; written into
     * {@code r[c]} and {@code d[c]}. The one definition both backends follow
     * (cuda/finalize_statistics.cuh repeats it in the same operations).
     */
    public void renormCorrection(int c, double batchMean, double batchVariance, float[] r, float[] d) {
        double eps = config.eps();
        double sigma = Math.sqrt(runningVar[c] + eps);
        double ratio = Math.sqrt(batchVariance + eps) / sigma;
        double shift = (batchMean - runningMean[c]) / sigma;
        r[c] = (float) Math.min(Math.max(ratio, 1.0 / renormRmax), renormRmax);
        d[c] = (float) Math.min(Math.max(shift, -renormDmax), renormDmax);
    }

    /**
     * What a training forward derives per channel from outside batch statistics (synchronized
     * batch norm): 1/sqrt(variance + eps) into {@code invStd} and, where {@code r} is not null,
     * Batch Renormalization's r and d.
     */
    public void batchCorrections(double[] mean, double[] variance, float[] invStd, float[] r, float[] d) {
        for (int c = 0; c < config.channels(); c++) {
            invStd[c] = invStd(variance[c], config.eps());
            if (r != null) {
                renormCorrection(c, mean[c], variance[c], r, d);
            }
        }
    }

    /**
     * The gamma the latest forward's xhat was multiplied by, which dx flows through: gamma, or
     * gamma * r after a Batch Renormalization forward (r a constant).
     */
    public float backwardGamma(int c) {
        return savedRenormalized ? renormGamma(gamma[c], savedRenormR[c]) : gamma[c];
    }

    /**
     * d loss / d gamma of channel c from sum(dy * xhat) and sum(dy): the first, or after a Batch
     * Renormalization forward r * sum(dy * xhat) + d * sum(dy) (the d term skipped at d = 0, so
     * rmax 1, dmax 0 is plain batch norm bit for bit).
     */
    public double gammaGradient(int c, double sumDyXhat, double sumDy) {
        if (!savedRenormalized) {
            return sumDyXhat;
        }
        double gradient = sumDyXhat * savedRenormR[c];
        float d = savedRenormD[c];
        return d == 0 ? gradient : gradient + d * sumDy;
    }

    /**
     * The next gradients of gamma and beta from the sums sum(dy) and sum(dy * (x - mean)) of the
     * latest forward (synchronized batch norm: every worker's), into {@link #nextGammaGradient} and
     * {@link #nextBetaGradient}; {@link #commitGradients} makes them current.
     */
    public void gradientsFromSums(double[] sumDy, double[] sumDyCentered) {
        for (int c = 0; c < config.channels(); c++) {
            double sumDyXhat = sumDyCentered[c] * savedInvStd[c];
            nextGammaGradient[c] = (float) gammaGradient(c, sumDyXhat, sumDy[c]);
            nextBetaGradient[c] = (float) sumDy[c];
        }
    }

    /**
     * The map inference applies per channel, in fp64: scale = gamma / sqrt(running_var + eps) and
     * shift = beta - scale * running_mean (gamma 1 and beta 0 without affine parameters).
     */
    public InferenceAffine inferenceAffine() {
        double[] scale = new double[config.channels()], shift = new double[config.channels()];
        for (int c = 0; c < config.channels(); c++) {
            double g = config.affine() ? gamma[c] : 1.0;
            double b = config.affine() ? beta[c] : 0.0;
            scale[c] = g / Math.sqrt(runningVar[c] + config.eps());
            shift[c] = b - scale[c] * runningMean[c];
        }
        return new InferenceAffine(scale, shift);
    }

    /** The mean the latest forward subtracted, rounded to float. */
    public float[] savedMeanAsFloat() {
        float[] copy = new float[savedMean.length];
        for (int c = 0; c < copy.length; c++) {
            copy[c] = (float) savedMean[c];
        }
        return copy;
    }

    /**
     * Replaces the running statistics by outside ones (population statistics), each rounded to
     * float, and the batch count; throws, changing nothing, for another C or values beyond float.
     */
    public void setRunningStatistics(int populationChannels, Supplier<double[]> means, Supplier<double[]> variances,
            long batches) {
        int channels = config.channels();
        if (populationChannels != channels) { // before the variance, which may refuse too few values
            throw new IllegalArgumentException("population statistics have C=" + populationChannels
                    + " but the layer has C=" + channels);
        }
        double[] mean = means.get(), variance = variances.get();
        float[] newMean = new float[channels], newVar = new float[channels];
        for (int c = 0; c < channels; c++) {
            newMean[c] = (float) mean[c];
            newVar[c] = (float) variance[c];
            if (!Float.isFinite(newMean[c]) || !Float.isFinite(newVar[c])) {
                throw new IllegalArgumentException("population statistics of channel " + c + " (mean " + mean[c]
                        + ", variance " + variance[c] + ") do not fit a float");
            }
            if (newVar[c] < 0) {
                throw new IllegalArgumentException("population variance value " + newVar[c] + " at channel " + c
                        + " must be finite and non-negative");
            }
        }
        System.arraycopy(newMean, 0, runningMean, 0, channels);
        System.arraycopy(newVar, 0, runningVar, 0, channels);
        numBatchesTracked = batches;
        parametersChanged();
    }

    /** gamma * r, the scale a renormalizing forward multiplies xhat by (gamma itself when r = 1). */
    public static float renormGamma(float gamma, float r) {
        return gamma * r;
    }

    /** beta + gamma * d, the renormalizing forward's shift: beta itself, bit for bit, when d = 0. */
    public static float renormBeta(float gamma, float beta, float d) {
        return d == 0 ? beta : (float) (beta + (double) gamma * d);
    }

    /** Throws unless the latest forward had {@code shape}: backward differentiates that forward. */
    public void checkBackwardShape(Shape shape) {
        if (savedShape == null) {
            throw new IllegalStateException("backward needs a forward first: no forward has run on this layer");
        }
        if (!savedShape.equals(shape)) {
            throw new IllegalArgumentException("backward shape " + shape + " differs from the latest forward's "
                    + savedShape);
        }
    }

    /** Copies C checked values into one of the per-channel parameters; {@code what} names it in messages. */
    public void setChannelValues(String what, float[] values, float[] target, boolean nonNegative) {
        if (values == null || values.length != config.channels()) {
            throw new IllegalArgumentException(what + " needs C=" + config.channels() + " values, got "
                    + (values == null ? "null" : values.length));
        }
        for (int c = 0; c < values.length; c++) {
            if (!Float.isFinite(values[c]) || (nonNegative && values[c] < 0)) {
                throw new IllegalArgumentException(what + " value " + values[c] + " at channel " + c
                        + (nonNegative ? " must be finite and non-negative" : " must be finite"));
            }
        }
        System.arraycopy(values, 0, target, 0, values.length);
        parametersChanged();
    }

    /** Sets t, the count of batches behind the running statistics: at least 0. */
    public void setNumBatchesTracked(long count) {
        if (count < 0) {
            throw new IllegalArgumentException("num_batches_tracked must be >= 0, got " + count);
        }
        numBatchesTracked = count;
    }

    /** Records that gamma, beta or the running statistics were written. */
    public void parametersChanged() {
        parametersVersion++;
    }

    public long parametersVersion() {
        return parametersVersion;
    }

    /**
     * 1/sqrt(runningVar + eps) per channel, recomputed only after the running statistics changed:
     * for a single example the square roots cost more than the normalization itself.
     */
    public float[] runningInvStd() {
        if (runningInvStdVersion != parametersVersion) {
            for (int c = 0; c < config.channels(); c++) {
                runningInvStd[c] = invStd(runningVar[c], config.eps());
            }
            runningInvStdVersion = parametersVersion;
        }
        return runningInvStd;
    }

    /** 1/sqrt(var + eps) rounded to float: the one definition every path uses. */
    public static float invStd(double variance, double eps) {
        return (float) (1.0 / Math.sqrt(variance + eps));
    }

    /**
     * Records the batch statistics of a training forward and, when tracked, folds them into the
     * running statistics. Throws, changing nothing, when any statistic is not finite.
     *
     * @param mean     per-channel batch mean
     * @param variance per-channel biased batch variance
     * @param invStd   per-channel 1/sqrt(variance + eps), as the forward used it
     * @param update   whether to update the running statistics (training with tracking on)
     * @param renormR  Batch Renormalization's per-channel r as the forward used it, or null
     * @param renormD  its d, or null
     */
    public void commitBatch(Shape shape, double[] mean, double[] variance, float[] invStd, boolean update,
            float[] renormR, float[] renormD) {
        commitBatch(shape, mean, variance, invStd, update, renormR, renormD, shape.valuesPerChannel());
    }

    /**
     * {@link #commitBatch(Shape, double[], double[], float[], boolean, float[], float[])} for
     * statistics over {@code count} values per channel (synchronized batch norm: every worker's
     * batch), which the unbiased running variance scales by count / (count - 1). {@code shape} may
     * be null: a worker whose own batch is empty.
     */
    public void commitBatch(Shape shape, double[] mean, double[] variance, float[] invStd, boolean update,
            float[] renormR, float[] renormD, long count) {
        int channels = config.channels();
        for (int c = 0; c < channels; c++) {
            if (!Double.isFinite(mean[c]) || !Double.isFinite(variance[c]) || !Float.isFinite(invStd[c])) {
                throw new IllegalArgumentException("batch statistics of channel " + c + " are not finite (mean="
                        + mean[c] + ", variance=" + variance[c] + ") for input " + shape
                        + ": the input holds NaN or Inf or overflows float; running statistics left unchanged");
            }
        }
        if (update) {
            long m = count;
            double w = config.newBatchWeight(numBatchesTracked + 1);
            double varianceScale = config.runningVariance() == VarianceEstimator.UNBIASED ? (double) m / (m - 1) : 1.0;
            for (int c = 0; c < channels; c++) {
                nextRunningMean[c] = (float) ((1 - w) * runningMean[c] + w * mean[c]);
                nextRunningVar[c] = (float) ((1 - w) * runningVar[c] + w * (variance[c] * varianceScale));
                if (!Float.isFinite(nextRunningMean[c]) || !Float.isFinite(nextRunningVar[c])) {
                    throw new IllegalArgumentException("running statistics of channel " + c
                            + " would overflow float (mean=" + nextRunningMean[c] + ", var=" + nextRunningVar[c]
                            + ") for input " + shape + "; running statistics left unchanged");
                }
            }
        }
        commitComputed(shape, mean, invStd, nextRunningMean, nextRunningVar, update, renormR, renormD);
    }

    /**
     * Records a training forward's checked statistics and, when {@code update}, the next running
     * statistics: copies them in, all at once. The CUDA backend calls it with what the device
     * computed and checked.
     */
    public void commitComputed(Shape shape, double[] mean, float[] invStd, float[] nextRunningMean, float[] nextRunningVar,
            boolean update, float[] renormR, float[] renormD) {
        int channels = config.channels();
        savedRenormalized = renormR != null;
        if (renormR != null) {
            System.arraycopy(renormR, 0, savedRenormR, 0, channels);
            System.arraycopy(renormD, 0, savedRenormD, 0, channels);
        }
        System.arraycopy(mean, 0, savedMean, 0, channels);
        System.arraycopy(invStd, 0, savedInvStd, 0, channels);
        savedShape = shape;
        savedFromBatch = true;
        savedRunningVersion = -1;
        if (update) {
            System.arraycopy(nextRunningMean, 0, runningMean, 0, channels);
            System.arraycopy(nextRunningVar, 0, runningVar, 0, channels);
            numBatchesTracked++;
            parametersChanged();
        }
    }

    /**
     * A backward finished: its gradients replace the previous ones, all at once. Throws, changing
     * nothing, when any is not finite: NaN or Infinity in dy or x (or sums past float's range)
     * would otherwise reach the optimizer's update of gamma and beta.
     */
    public void commitGradients() {
        for (int c = 0; c < config.channels(); c++) {
            if (!Float.isFinite(nextGammaGradient[c]) || !Float.isFinite(nextBetaGradient[c])) {
                throw new IllegalArgumentException("gradients of channel " + c + " are not finite (gamma gradient="
                        + nextGammaGradient[c] + ", beta gradient=" + nextBetaGradient[c]
                        + "): dy or x holds NaN or Infinity; gradients left unchanged");
            }
        }
        System.arraycopy(nextGammaGradient, 0, gammaGradient, 0, config.channels());
        System.arraycopy(nextBetaGradient, 0, betaGradient, 0, config.channels());
    }

    /**
     * Records that an inference forward normalized {@code shape} with the running statistics; the
     * copies into the saved statistics are skipped while they already hold this version's.
     */
    public void commitRunning(Shape shape) {
        if (savedRunningVersion != parametersVersion) {
            float[] inverse = runningInvStd();
            for (int c = 0; c < config.channels(); c++) {
                savedMean[c] = runningMean[c];
            }
            System.arraycopy(inverse, 0, savedInvStd, 0, config.channels());
            savedRunningVersion = parametersVersion;
        }
        savedShape = shape;
        savedFromBatch = false;
        savedRenormalized = false;
    }
}

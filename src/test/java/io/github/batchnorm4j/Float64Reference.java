package io.github.batchnorm4j;

/**
 * Batch norm written plainly in fp64, straight from the formulas, as the tests' reference. It
 * indexes every layout by (n, c, h, w) and shares no code with the library.
 */
final class Float64Reference {
    private Float64Reference() {
    }

    /** Offset of element (n, c, h, w) in {@code shape}'s memory layout. */
    static int index(Shape s, int n, int c, int h, int w) {
        int channels = s.channels(), height = s.height(), width = s.width();
        switch (s.layout()) {
            case NC:
                return n * channels + c;
            case NCHW:
                return ((n * channels + c) * height + h) * width + w;
            default:
                return ((n * height + h) * width + w) * channels + c;
        }
    }

    static double[] mean(Shape s, float[] x) {
        double[] mean = new double[s.channels()];
        for (int c = 0; c < s.channels(); c++) {
            double sum = 0;
            for (int n = 0; n < s.n(); n++) {
                for (int h = 0; h < s.height(); h++) {
                    for (int w = 0; w < s.width(); w++) {
                        sum += x[index(s, n, c, h, w)];
                    }
                }
            }
            mean[c] = sum / s.valuesPerChannel();
        }
        return mean;
    }

    /** Biased variance, two passes. */
    static double[] variance(Shape s, float[] x, double[] mean) {
        double[] var = new double[s.channels()];
        for (int c = 0; c < s.channels(); c++) {
            double sum = 0;
            for (int n = 0; n < s.n(); n++) {
                for (int h = 0; h < s.height(); h++) {
                    for (int w = 0; w < s.width(); w++) {
                        double d = x[index(s, n, c, h, w)] - mean[c];
                        sum += d * d;
                    }
                }
            }
            var[c] = sum / s.valuesPerChannel();
        }
        return var;
    }

    /** y = gamma * (x - mean) / sqrt(var + eps) + beta. */
    static double[] normalize(Shape s, float[] x, double[] mean, double[] var, double eps, float[] gamma,
            float[] beta) {
        double[] y = new double[x.length];
        for (int n = 0; n < s.n(); n++) {
            for (int c = 0; c < s.channels(); c++) {
                for (int h = 0; h < s.height(); h++) {
                    for (int w = 0; w < s.width(); w++) {
                        int i = index(s, n, c, h, w);
                        y[i] = gamma[c] * (x[i] - mean[c]) / Math.sqrt(var[c] + eps) + beta[c];
                    }
                }
            }
        }
        return y;
    }

    /** Gradients {dx, dgamma, dbeta} of a training forward with batch statistics. */
    static double[][] backwardTraining(Shape s, float[] x, float[] dy, float[] gamma, double eps) {
        double[] mean = mean(s, x);
        double[] var = variance(s, x, mean);
        int channels = s.channels();
        double m = s.valuesPerChannel();
        double[] dgamma = new double[channels];
        double[] dbeta = new double[channels];
        double[] dx = new double[x.length];
        for (int c = 0; c < channels; c++) {
            double invstd = 1 / Math.sqrt(var[c] + eps);
            for (int n = 0; n < s.n(); n++) {
                for (int h = 0; h < s.height(); h++) {
                    for (int w = 0; w < s.width(); w++) {
                        int i = index(s, n, c, h, w);
                        dbeta[c] += dy[i];
                        dgamma[c] += dy[i] * (x[i] - mean[c]) * invstd;
                    }
                }
            }
            for (int n = 0; n < s.n(); n++) {
                for (int h = 0; h < s.height(); h++) {
                    for (int w = 0; w < s.width(); w++) {
                        int i = index(s, n, c, h, w);
                        double xhat = (x[i] - mean[c]) * invstd;
                        dx[i] = gamma[c] * invstd / m * (m * dy[i] - dbeta[c] - xhat * dgamma[c]);
                    }
                }
            }
        }
        return new double[][] {dx, dgamma, dbeta};
    }

    /**
     * Batch Renormalization's training step (Ioffe 2017, Algorithm 1) in fp64: {y, dx, dgamma,
     * dbeta, r, d}, with r and d from the running statistics before the update and held constant
     * in the gradients.
     */
    static double[][] renormTraining(Shape s, float[] x, float[] dy, float[] gamma, float[] beta,
            float[] runningMean, float[] runningVar, double eps, double rmax, double dmax) {
        double[] mean = mean(s, x);
        double[] var = variance(s, x, mean);
        int channels = s.channels();
        double m = s.valuesPerChannel();
        double[] r = new double[channels], d = new double[channels];
        double[] y = new double[x.length], dx = new double[x.length];
        double[] dgamma = new double[channels], dbeta = new double[channels];
        for (int c = 0; c < channels; c++) {
            double sigmaB = Math.sqrt(var[c] + eps), sigma = Math.sqrt(runningVar[c] + eps);
            r[c] = Math.min(Math.max(sigmaB / sigma, 1 / rmax), rmax);
            d[c] = Math.min(Math.max((mean[c] - runningMean[c]) / sigma, -dmax), dmax);
            double sumDy = 0, sumDyXhat = 0;
            for (int n = 0; n < s.n(); n++) {
                for (int h = 0; h < s.height(); h++) {
                    for (int w = 0; w < s.width(); w++) {
                        int i = index(s, n, c, h, w);
                        double xhat = (x[i] - mean[c]) / sigmaB;
                        y[i] = gamma[c] * (xhat * r[c] + d[c]) + beta[c];
                        sumDy += dy[i];
                        sumDyXhat += dy[i] * xhat;
                    }
                }
            }
            dbeta[c] = sumDy;
            dgamma[c] = r[c] * sumDyXhat + d[c] * sumDy;
            for (int n = 0; n < s.n(); n++) {
                for (int h = 0; h < s.height(); h++) {
                    for (int w = 0; w < s.width(); w++) {
                        int i = index(s, n, c, h, w);
                        double xhat = (x[i] - mean[c]) / sigmaB;
                        dx[i] = gamma[c] * r[c] / sigmaB / m * (m * dy[i] - sumDy - xhat * sumDyXhat);
                    }
                }
            }
        }
        return new double[][] {y, dx, dgamma, dbeta, r, d};
    }

    /** Gradients {dx, dgamma, dbeta} of an inference forward with fixed statistics. */
    static double[][] backwardInference(Shape s, float[] x, float[] dy, float[] gamma, float[] runningMean,
            float[] runningVar, double eps) {
        int channels = s.channels();
        double[] dgamma = new double[channels];
        double[] dbeta = new double[channels];
        double[] dx = new double[x.length];
        for (int c = 0; c < channels; c++) {
            double invstd = 1 / Math.sqrt(runningVar[c] + eps);
            for (int n = 0; n < s.n(); n++) {
                for (int h = 0; h < s.height(); h++) {
                    for (int w = 0; w < s.width(); w++) {
                        int i = index(s, n, c, h, w);
                        dbeta[c] += dy[i];
                        dgamma[c] += dy[i] * (x[i] - runningMean[c]) * invstd;
                        dx[i] = dy[i] * gamma[c] * invstd;
                    }
                }
            }
        }
        return new double[][] {dx, dgamma, dbeta};
    }

    /** Running statistics in fp64, updated as the mission's formulas say. */
    static final class RunningStats {
        final double[] mean;
        final double[] var;
        long t;

        RunningStats(int channels) {
            mean = new double[channels];
            var = new double[channels];
            java.util.Arrays.fill(var, 1.0);
        }

        /**
         * @param momentum weight of the new batch, or NaN for the cumulative average (1/t)
         * @param biasCorrection divide a zero-started raw EWA by 1 - decay^t
         */
        void update(Shape s, float[] x, double momentum, boolean unbiased, boolean biasCorrection,
                double[] rawMean, double[] rawVar) {
            double[] mu = Float64Reference.mean(s, x);
            double[] v = Float64Reference.variance(s, x, mu);
            long m = s.valuesPerChannel();
            t++;
            for (int c = 0; c < mean.length; c++) {
                double batchVar = unbiased ? v[c] * m / (m - 1) : v[c];
                if (biasCorrection) {
                    // The textbook form: a raw EWA from zero, divided by 1 - decay^t.
                    double decay = 1 - momentum;
                    rawMean[c] = decay * rawMean[c] + momentum * mu[c];
                    rawVar[c] = decay * rawVar[c] + momentum * batchVar;
                    mean[c] = rawMean[c] / (1 - Math.pow(decay, t));
                    var[c] = rawVar[c] / (1 - Math.pow(decay, t));
                } else {
                    double w = Double.isNaN(momentum) ? 1.0 / t : momentum;
                    mean[c] = (1 - w) * mean[c] + w * mu[c];
                    var[c] = (1 - w) * var[c] + w * batchVar;
                }
            }
        }
    }
}

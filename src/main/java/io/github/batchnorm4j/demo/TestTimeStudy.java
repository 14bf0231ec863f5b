package io.github.batchnorm4j.demo;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.BatchNormBuilder;
import io.github.batchnorm4j.InferenceAffine;
import io.github.batchnorm4j.PopulationStatistics;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.VarianceEstimator;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * What each test-time answer is worth on the digits, one example at a time (bn4j demo --study):
 * <ul>
 * <li>small batches: the running average against population statistics recomputed after
 * training (PreciseBN) against Batch Renormalization;</li>
 * <li>a shifted test domain: the training statistics against statistics recalibrated on
 * unlabeled images of the shifted domain (AdaBN);</li>
 * <li>how fast each running estimate approaches the population statistics of the current
 * weights as training goes;</li>
 * <li>the network with batch norm folded into the linear layer before it.</li>
 * </ul>
 * Every network starts from the same seed (weights, split and batch order), so the only
 * difference between the rows of a table is what the row names. Deterministic given the seed.
 */
public final class TestTimeStudy {
    /** Batch sizes of the small-batch table; 32 is the main job's. */
    static final int[] BATCH_SIZES = {32, 4, 2};
    /** Momenta of the running estimates watched in training (weights of the new batch). */
    private static final double FAST = 0.1, SLOW = 0.01;

    /** One row of the small-batch table: accuracies, one example at a time. */
    public record SmallBatchRow(int batchSize, float learningRate, double runningAverage, double population,
            double renorm, double renormPopulation) {
    }

    /** One row of the domain table. */
    public record DomainRow(String domain, double trainingStatistics, double recalibrated) {
    }

    /** The estimates' errors against the population statistics after {@code step} training steps. */
    public record ConvergencePoint(long step, double[] meanError, double[] varianceError) {
    }

    /** Folded against unfolded predictions on the test set. */
    public record FoldResult(int identical, int total, double maxLogitDifference, double maxRelativeLogitDifference) {
    }

    public record Result(List<SmallBatchRow> smallBatches, List<DomainRow> domains, List<String> estimators,
            List<ConvergencePoint> convergence, FoldResult fold, String renormSchedule) {
    }

    private TestTimeStudy() {
    }

    public static Result run(DigitsPipeline.Settings settings) {
        DigitsData data = DigitsData.load(settings.seed(), 0.2);
        List<SmallBatchRow> small = new ArrayList<>();
        for (int batchSize : BATCH_SIZES) {
            small.add(smallBatches(data, settings, batchSize));
        }
        List<DomainRow> domains;
        FoldResult fold;
        try (Trained main = train(data, settings, settings.batchSize(), settings.learningRate(),
                BatchNorm.builder(settings.hidden()), null)) {
            domains = domains(data, main.net);
            fold = fold(data, main);
        }
        List<ConvergencePoint> convergence = new ArrayList<>();
        List<String> estimators = convergence(data, settings, convergence);
        return new Result(small, domains, estimators, convergence, fold, RenormSchedule.DESCRIPTION);
    }

    // ---- (b) small batches ----

    private static SmallBatchRow smallBatches(DigitsData data, DigitsPipeline.Settings settings, int batchSize) {
        // the linear scaling rule: the same distance per epoch at every batch size
        float rate = settings.learningRate() * batchSize / settings.batchSize();
        double running, population, renorm, renormPopulation;
        try (Trained plain = train(data, settings, batchSize, rate, BatchNorm.builder(settings.hidden()), null)) {
            running = plain.net.accuracyOneByOne(data, false);
            plain.net.bn().setRunningStatistics(plain.net.hiddenStatistics(data.trainX));
            population = plain.net.accuracyOneByOne(data, false);
        }
        long steps = (long) settings.epochs() * (data.trainCount() / batchSize);
        BatchNormBuilder builder = BatchNorm.builder(settings.hidden()).batchRenormalization(1, 0);
        try (Trained renormalized = train(data, settings, batchSize, rate, builder, new RenormSchedule(steps))) {
            renorm = renormalized.net.accuracyOneByOne(data, false);
            renormalized.net.bn().setRunningStatistics(renormalized.net.hiddenStatistics(data.trainX));
            renormPopulation = renormalized.net.accuracyOneByOne(data, false);
        }
        return new SmallBatchRow(batchSize, rate, running, population, renorm, renormPopulation);
    }

    /**
     * Ioffe's schedule scaled to the run's length (his: plain for 5k steps, rmax 3 by 40k, dmax 5
     * by 25k steps): plain batch norm for the first 5% of the steps, then rmax rises linearly to 3
     * by 30% and dmax to 5 by 20%.
     */
    private static final class RenormSchedule implements Network.StepHook {
        static final String DESCRIPTION = "rmax 1, dmax 0 for the first 5% of steps, then linearly to rmax 3 at "
                + "30% and dmax 5 at 20%";
        private final long steps;
        private BatchNorm bn;

        RenormSchedule(long steps) {
            this.steps = steps;
        }

        @Override
        public void beforeStep(long step) {
            double t = (double) step / steps;
            bn.setRenormLimits(1 + 2 * ramp(t, 0.05, 0.30), 5 * ramp(t, 0.05, 0.20));
        }

        private static double ramp(double t, double start, double end) {
            return Math.min(1, Math.max(0, (t - start) / (end - start)));
        }

        @Override
        public void afterForward(Shape shape, float[] h) {
        }
    }

    // ---- (c) a shifted test domain ----

    private static List<DomainRow> domains(DigitsData data, Network net) {
        List<DomainRow> rows = new ArrayList<>();
        rows.add(domain("the test images as they are", data.trainX, data.testX, data.testY, net));
        rows.add(domain("contrast x0.5, brightness +0.3", contrast(data.trainX), contrast(data.testX), data.testY,
                net));
        rows.add(domain("shifted one pixel to the right", shiftRight(data.trainX), shiftRight(data.testX),
                data.testY, net));
        return rows;
    }

    /**
     * Accuracy on {@code testX} with the training statistics, then with statistics recalibrated on
     * {@code unlabeled} (the training images carried into the same domain, labels unused); the
     * layer's running statistics are put back afterwards.
     */
    private static DomainRow domain(String name, float[] unlabeled, float[] testX, int[] testY, Network net) {
        BatchNorm bn = net.bn();
        float[] mean = bn.runningMean(), var = bn.runningVar();
        long tracked = bn.numBatchesTracked();
        double training = net.accuracyOneByOne(testX, testY, false);
        bn.setRunningStatistics(net.hiddenStatistics(unlabeled));
        double recalibrated = net.accuracyOneByOne(testX, testY, false);
        bn.setRunningMean(mean);
        bn.setRunningVar(var);
        bn.setNumBatchesTracked(tracked);
        return new DomainRow(name, training, recalibrated);
    }

    private static float[] contrast(float[] images) {
        float[] out = new float[images.length];
        for (int i = 0; i < images.length; i++) {
            out[i] = 0.5f * images[i] + 0.3f;
        }
        return out;
    }

    /** Each 8x8 image moved one pixel right; the left column becomes 0 (background). */
    private static float[] shiftRight(float[] images) {
        float[] out = new float[images.length];
        for (int image = 0; image < images.length / DigitsData.FEATURES; image++) {
            int base = image * DigitsData.FEATURES;
            for (int row = 0; row < 8; row++) {
                for (int column = 1; column < 8; column++) {
                    out[base + row * 8 + column] = images[base + row * 8 + column - 1];
                }
            }
        }
        return out;
    }

    // ---- (d) how fast the running estimates approach the population statistics ----

    /**
     * Trains the main job's network with four more layers watching its batch-norm input: EWA at
     * two momenta, the bias-corrected EWA and the cumulative average, each fed every batch (their
     * outputs unused). After chosen steps each estimate is compared with the exact statistics of
     * the training set under the current weights: the mean's error in population standard
     * deviations and the variance's relative error, averaged over the channels.
     */
    private static List<String> convergence(DigitsData data, DigitsPipeline.Settings settings,
            List<ConvergencePoint> points) {
        int hidden = settings.hidden();
        List<String> names = List.of("EWA momentum " + FAST, "EWA momentum " + SLOW,
                "bias-corrected EWA momentum " + SLOW, "cumulative average");
        BatchNorm[] estimates = {BatchNorm.builder(hidden).momentum(FAST).build(),
            BatchNorm.builder(hidden).momentum(SLOW).build(),
            BatchNorm.builder(hidden).momentum(SLOW).biasCorrection(true).build(),
            BatchNorm.builder(hidden).cumulativeAverage().build()};
        try {
            Network[] watched = new Network[1];
            float[] ignored = new float[settings.batchSize() * hidden];
            long total = (long) settings.epochs() * (data.trainCount() / settings.batchSize());
            Network.StepHook hook = new Network.StepHook() {
                @Override
                public void beforeStep(long step) {
                    if (isCheckpoint(step, total)) {
                        points.add(errors(step, watched[0].hiddenStatistics(data.trainX), estimates));
                    }
                }

                @Override
                public void afterForward(Shape shape, float[] h) {
                    for (BatchNorm estimate : estimates) {
                        estimate.forwardTraining(shape, h, ignored);
                    }
                }
            };
            try (Trained trained = train(data, settings, settings.batchSize(), settings.learningRate(),
                    BatchNorm.builder(hidden), hook, watched)) {
                points.add(errors(total, trained.net.hiddenStatistics(data.trainX), estimates));
            }
        } finally {
            for (BatchNorm estimate : estimates) {
                estimate.close();
            }
        }
        return names;
    }

    /** Steps 1 to 10, then about five a decade; step 0 has seen no batch. */
    static boolean isCheckpoint(long step, long total) {
        if (step < 1 || step >= total) {
            return false;
        }
        if (step <= 10) {
            return true;
        }
        long decade = 1;
        while (decade * 10 <= step) {
            decade *= 10;
        }
        for (long mark : new long[] {1, 2, 3, 5, 7}) {
            if (step == mark * decade) {
                return true;
            }
        }
        return false;
    }

    private static ConvergencePoint errors(long step, PopulationStatistics population, BatchNorm[] estimates) {
        double[] mean = population.mean(), var = population.variance(VarianceEstimator.UNBIASED);
        double[] meanError = new double[estimates.length], varianceError = new double[estimates.length];
        for (int e = 0; e < estimates.length; e++) {
            float[] m = estimates[e].runningMean(), v = estimates[e].runningVar();
            for (int c = 0; c < mean.length; c++) {
                meanError[e] += Math.abs(m[c] - mean[c]) / Math.sqrt(var[c]) / mean.length;
                varianceError[e] += Math.abs(v[c] / var[c] - 1) / mean.length;
            }
        }
        return new ConvergencePoint(step, meanError, varianceError);
    }

    // ---- (e) folding ----

    /**
     * Folds the batch norm into the first linear layer (W' = diag(a) W, b' = shift) and predicts
     * the test set one example at a time with Linear' -> ReLU -> Linear, against the network.
     */
    private static FoldResult fold(DigitsData data, Trained trained) {
        Network net = trained.net;
        Linear first = net.first();
        int hidden = first.out, classes = net.second().out;
        InferenceAffine.Folded folded = net.bn().inferenceAffine()
                .foldInto(first.weight, new long[] {hidden, first.in}, first.bias);
        Linear foldedFirst = new Linear(first.in, hidden, folded.weight(), folded.bias(), trained.gemm);
        int count = data.testCount();
        float[] logits = new float[count * classes];
        int[] predicted = net.predictOneByOne(data.testX, logits);
        float[] one = new float[first.in], h = new float[hidden], out = new float[classes];
        int identical = 0;
        double maxDifference = 0, maxRelative = 0;
        for (int i = 0; i < count; i++) {
            System.arraycopy(data.testX, i * first.in, one, 0, first.in);
            foldedFirst.forward(one, 1, h);
            Network.relu(h, h, hidden);
            net.second().forward(h, 1, out);
            identical += Network.argmax(out, 0, classes) == predicted[i] ? 1 : 0;
            for (int j = 0; j < classes; j++) {
                double difference = Math.abs(out[j] - logits[i * classes + j]);
                maxDifference = Math.max(maxDifference, difference);
                maxRelative = Math.max(maxRelative, difference / Math.max(1, Math.abs(logits[i * classes + j])));
            }
        }
        return new FoldResult(identical, count, maxDifference, maxRelative);
    }

    // ---- training ----

    /** A trained network with what it holds open. */
    private record Trained(Network net, MatrixMultiply gemm) implements AutoCloseable {
        @Override
        public void close() {
            net.bn().close();
            gemm.close();
        }
    }

    private static Trained train(DigitsData data, DigitsPipeline.Settings settings, int batchSize, float rate,
            BatchNormBuilder builder, Network.StepHook hook) {
        return train(data, settings, batchSize, rate, builder, hook, new Network[1]);
    }

    /** As the main job trains (same seed, same order of random draws), with {@code builder}'s layer. */
    private static Trained train(DigitsData data, DigitsPipeline.Settings settings, int batchSize, float rate,
            BatchNormBuilder builder, Network.StepHook hook, Network[] created) {
        Random random = new Random(settings.seed());
        BatchNorm bn = builder.build();
        MatrixMultiply gemm = DigitsPipeline.matrixMultiplyFor(bn);
        Linear first = new Linear(DigitsData.FEATURES, settings.hidden(), false, random, gemm);
        Linear second = new Linear(settings.hidden(), DigitsData.CLASSES, true, random, gemm);
        Network net = new Network(first, bn, second, batchSize);
        created[0] = net;
        if (hook instanceof RenormSchedule schedule) {
            schedule.bn = bn;
        }
        try {
            for (int epoch = 1; epoch <= settings.epochs(); epoch++) {
                net.trainEpoch(data, random, rate, hook);
            }
        } catch (RuntimeException e) {
            bn.close();
            gemm.close();
            throw e;
        }
        return new Trained(net, gemm);
    }
}

package io.github.batchnorm4j.demo;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.PopulationStatistics;
import io.github.batchnorm4j.Shape;
import java.util.Random;

/** The demo's network and its training step; see {@link DigitsPipeline}. Buffers are sized once. */
final class Network {
    private final Linear first;
    private final BatchNorm bn;
    private final Linear second;
    private final int batchSize;
    private final int hidden;
    private final float[] x, h, z, a, logits, dLogits, dA, dZ, dH;

    Network(Linear first, BatchNorm bn, Linear second, int batchSize) {
        this.first = first;
        this.bn = bn;
        this.second = second;
        this.batchSize = batchSize;
        this.hidden = first.out;
        x = new float[batchSize * first.in];
        h = new float[batchSize * hidden];
        z = new float[batchSize * hidden];
        a = new float[batchSize * hidden];
        logits = new float[batchSize * second.out];
        dLogits = new float[logits.length];
        dA = new float[a.length];
        dZ = new float[z.length];
        dH = new float[h.length];
    }

    /** What a study watches in the training loop: called before each step and after its forward. */
    interface StepHook {
        /** Before step {@code step} (0-based, counted over all epochs). */
        void beforeStep(long step);

        /** After the step's first layer: {@code h} holds the batch-norm input of {@code shape}. */
        void afterForward(Shape shape, float[] h);
    }

    private long steps;

    Linear first() {
        return first;
    }

    Linear second() {
        return second;
    }

    BatchNorm bn() {
        return bn;
    }

    /** One pass over the training set in a shuffled order; returns the mean loss. */
    double trainEpoch(DigitsData data, Random random, float learningRate) {
        return trainEpoch(data, random, learningRate, null);
    }

    /** {@link #trainEpoch(DigitsData, Random, float)} with a hook into every step (may be null). */
    double trainEpoch(DigitsData data, Random random, float learningRate, StepHook hook) {
        int[] order = DigitsData.permutation(data.trainCount(), random);
        double lossSum = 0;
        int batches = 0;
        // The last partial batch is dropped: a batch of one has no batch statistics.
        for (int startRow = 0; startRow + batchSize <= order.length; startRow += batchSize) {
            for (int r = 0; r < batchSize; r++) {
                System.arraycopy(data.trainX, order[startRow + r] * first.in, x, r * first.in, first.in);
            }
            Shape shape = Shape.nc(batchSize, hidden);
            if (hook != null) {
                hook.beforeStep(steps);
            }
            steps++;
            first.forward(x, batchSize, h);
            if (hook != null) {
                hook.afterForward(shape, h);
            }
            bn.forwardTraining(shape, h, z);
            relu(z, a, batchSize * hidden);
            second.forward(a, batchSize, logits);
            double loss = 0;
            for (int r = 0; r < batchSize; r++) {
                loss += softmaxCrossEntropy(logits, r, data.trainY[order[startRow + r]], dLogits, batchSize);
            }
            lossSum += loss / batchSize;
            batches++;
            second.backward(a, dLogits, batchSize, dA);
            for (int i = 0; i < batchSize * hidden; i++) {
                dZ[i] = z[i] > 0 ? dA[i] : 0f;
            }
            bn.backward(shape, h, dZ, dH);
            first.backward(x, dH, batchSize, null);
            second.step(learningRate);
            first.step(learningRate);
            bn.setGamma(minus(bn.gamma(), bn.gammaGradient(), learningRate));
            bn.setBeta(minus(bn.beta(), bn.betaGradient(), learningRate));
        }
        return lossSum / batches;
    }

    /**
     * Accuracy on the test set, one example at a time: normalized with the running averages, or,
     * with {@code ownStatistics}, with the example's own batch statistics. Those are mean = the
     * example and variance = 0, so (z - mean) / sqrt(0 + eps) is 0 for every unit and batch norm
     * outputs beta, whatever the input. (The layer itself refuses training on one value per
     * channel, as PyTorch does; this computes what that would give.)
     */
    double accuracyOneByOne(DigitsData data, boolean ownStatistics) {
        return accuracyOneByOne(data.testX, data.testY, ownStatistics);
    }

    /** {@link #accuracyOneByOne(DigitsData, boolean)} on the given images and labels. */
    double accuracyOneByOne(float[] images, int[] labels, boolean ownStatistics) {
        int correct = 0;
        float[] one = new float[first.in], h1 = new float[hidden], z1 = new float[hidden], out = new float[second.out];
        float[] beta = bn.beta();
        for (int i = 0; i < labels.length; i++) {
            System.arraycopy(images, i * first.in, one, 0, first.in);
            first.forward(one, 1, h1);
            if (ownStatistics) {
                System.arraycopy(beta, 0, z1, 0, hidden);
            } else {
                bn.forwardInference(Shape.nc(1, hidden), h1, z1);
            }
            relu(z1, z1, hidden);
            second.forward(z1, 1, out);
            correct += argmax(out, 0, second.out) == labels[i] ? 1 : 0;
        }
        return (double) correct / labels.length;
    }

    /**
     * The exact statistics of the batch-norm input over {@code images} (the population
     * statistics PreciseBN and AdaBN recompute), in batches of the training batch size.
     */
    PopulationStatistics hiddenStatistics(float[] images) {
        int count = images.length / first.in;
        PopulationStatistics population = new PopulationStatistics(hidden);
        float[] hAll = new float[count * hidden];
        first.forward(images, count, hAll);
        for (int start = 0; start < count; start += batchSize) {
            int rows = Math.min(batchSize, count - start);
            population.add(Shape.nc(rows, hidden), hAll, start * hidden);
        }
        return population;
    }

    /** The class each image is predicted to be, one at a time with the running statistics, and the logits. */
    int[] predictOneByOne(float[] images, float[] logitsOut) {
        int count = images.length / first.in;
        int[] predicted = new int[count];
        float[] one = new float[first.in], h1 = new float[hidden], z1 = new float[hidden], out = new float[second.out];
        for (int i = 0; i < count; i++) {
            System.arraycopy(images, i * first.in, one, 0, first.in);
            first.forward(one, 1, h1);
            bn.forwardInference(Shape.nc(1, hidden), h1, z1);
            relu(z1, z1, hidden);
            second.forward(z1, 1, out);
            System.arraycopy(out, 0, logitsOut, i * second.out, second.out);
            predicted[i] = argmax(out, 0, second.out);
        }
        return predicted;
    }

    /** Accuracy when the whole test set is normalized with its own batch statistics, in one batch. */
    double accuracyWithTestSetStatistics(DigitsData data) {
        int n = data.testCount();
        float[] hAll = new float[n * hidden], zAll = new float[n * hidden], out = new float[n * second.out];
        first.forward(data.testX, n, hAll);
        try (BatchNorm batchStatistics = BatchNorm.builder(hidden).trackRunningStats(false).build()) {
            batchStatistics.setGamma(bn.gamma());
            batchStatistics.setBeta(bn.beta());
            batchStatistics.forwardInference(Shape.nc(n, hidden), hAll, zAll);
        }
        relu(zAll, zAll, n * hidden);
        second.forward(zAll, n, out);
        int correct = 0;
        for (int i = 0; i < n; i++) {
            correct += argmax(out, i * second.out, second.out) == data.testY[i] ? 1 : 0;
        }
        return (double) correct / n;
    }

    /** Loss of row r; writes d(mean loss)/d(logits) of that row into {@code gradient}. */
    private static double softmaxCrossEntropy(float[] logits, int r, int label, float[] gradient, int batch) {
        int classes = DigitsData.CLASSES, base = r * classes;
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < classes; j++) {
            max = Math.max(max, logits[base + j]);
        }
        double sum = 0;
        for (int j = 0; j < classes; j++) {
            sum += Math.exp(logits[base + j] - max);
        }
        for (int j = 0; j < classes; j++) {
            double p = Math.exp(logits[base + j] - max) / sum;
            gradient[base + j] = (float) ((p - (j == label ? 1 : 0)) / batch);
        }
        return Math.log(sum) - (logits[base + label] - max);
    }

    static void relu(float[] in, float[] out, int count) {
        for (int i = 0; i < count; i++) {
            out[i] = Math.max(in[i], 0f);
        }
    }

    static int argmax(float[] values, int offset, int count) {
        int best = 0;
        for (int j = 1; j < count; j++) {
            if (values[offset + j] > values[offset + best]) {
                best = j;
            }
        }
        return best;
    }

    private static float[] minus(float[] value, float[] gradient, float rate) {
        for (int i = 0; i < value.length; i++) {
            value[i] -= rate * gradient[i];
        }
        return value;
    }
}

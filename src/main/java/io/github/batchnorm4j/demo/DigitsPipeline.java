package io.github.batchnorm4j.demo;

import io.github.batchnorm4j.BatchNormRuntime;
import io.github.batchnorm4j.BatchNorm;
import java.util.Random;

/**
 * The main job: a multilayer perceptron Linear -> BatchNorm -> ReLU -> Linear -> softmax
 * cross-entropy, trained on mini-batches of the digits (batch norm in training mode, keeping
 * running statistics), then evaluated on the held-out split one example at a time three ways:
 * <ol>
 * <li>with the running averages (the method: works for a single example);</li>
 * <li>with each single example's own batch statistics: its mean is itself and its variance 0, so
 * every normalized unit is 0 and the layer outputs beta whatever the input (what breaks);</li>
 * <li>with the batch statistics of the whole test set at once (needs all of it together).</li>
 * </ol>
 * Deterministic given the seed (initialization, split and batch order all come from it).
 */
public final class DigitsPipeline {
    /** What to train. */
    public record Settings(long seed, int epochs, int batchSize, int hidden, float learningRate) {
        public static Settings defaults() {
            return new Settings(7, 30, 32, 64, 0.1f);
        }
    }

    /** Called after each epoch with its mean training loss and seconds. */
    public interface EpochListener {
        void epochDone(int epoch, int epochs, double meanLoss, double seconds);
    }

    /** The measured outcome. */
    public record Result(double runningAverageAccuracy, double ownStatisticsAccuracy,
            double testSetStatisticsAccuracy, double meanEpochSeconds, double finalLoss, int trainCount,
            int testCount, String batchNormBackend, String matrixMultiply) {
    }

    private DigitsPipeline() {
    }

    public static Result run(Settings settings, EpochListener listener) {
        DigitsData data = DigitsData.load(settings.seed(), 0.2);
        Random random = new Random(settings.seed());
        int hidden = settings.hidden();
        try (BatchNorm bn = BatchNorm.builder(hidden).build(); MatrixMultiply gemm = matrixMultiplyFor(bn)) {
            Linear first = new Linear(DigitsData.FEATURES, hidden, false, random, gemm);
            Linear second = new Linear(hidden, DigitsData.CLASSES, true, random, gemm);
            Network net = new Network(first, bn, second, settings.batchSize());
            double totalSeconds = 0, loss = Double.NaN;
            for (int epoch = 1; epoch <= settings.epochs(); epoch++) {
                long start = System.nanoTime();
                loss = net.trainEpoch(data, random, settings.learningRate());
                double seconds = (System.nanoTime() - start) / 1e9;
                totalSeconds += seconds;
                if (listener != null) {
                    listener.epochDone(epoch, settings.epochs(), loss, seconds);
                }
            }
            double running = net.accuracyOneByOne(data, false);
            double own = net.accuracyOneByOne(data, true);
            double wholeSet = net.accuracyWithTestSetStatistics(data);
            return new Result(running, own, wholeSet, totalSeconds / settings.epochs(), loss, data.trainCount(),
                    data.testCount(), BatchNormRuntime.backendReport(), gemm.description());
        }
    }

    /** cuBLAS where batch norm runs on CUDA and cuBLAS loads; plain Java otherwise. */
    static MatrixMultiply matrixMultiplyFor(BatchNorm bn) {
        if (!bn.backendName().equals("cuda")) {
            return new JavaMatrixMultiply("plain Java (batch norm runs on the CPU)");
        }
        String[] whyNot = new String[1];
        MatrixMultiply cublas = CublasMatrixMultiply.tryOpen(whyNot);
        return cublas != null ? cublas : new JavaMatrixMultiply("plain Java (" + whyNot[0] + ")");
    }
}

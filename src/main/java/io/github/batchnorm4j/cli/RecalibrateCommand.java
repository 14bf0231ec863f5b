package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.PopulationStatistics;
import io.github.batchnorm4j.VarianceEstimator;
import io.github.batchnorm4j.internal.io.NpyArray;
import io.github.batchnorm4j.internal.io.StateFile;
import io.github.batchnorm4j.io.NpyFloatReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bn4j recalibrate}: replaces a state's running statistics by the exact statistics of all
 * of X (PreciseBN; on unlabeled data of another domain, AdaBN), streamed batch by batch. Every
 * other member of the state is copied as it is; the output appears only when all of X was read.
 */
@Command(name = "recalibrate", description = "Replace a state's running statistics by the exact statistics of X.")
final class RecalibrateCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "X.npy", description = "float32 input, C order")
    Path input;

    @Option(names = "--layout", required = true, paramLabel = "NC|NCHW|NHWC")
    TensorLayout.Kind layout;

    @Option(names = "--batch-size", required = true, paramLabel = "B",
            description = "rows read at a time; the result does not depend on it beyond rounding")
    long batchSize;

    @Option(names = "--state-in", required = true, paramLabel = "S.npz",
            description = "written by bn4j fit or BatchNorm.save, or a PyTorch BatchNorm state_dict")
    Path stateIn;

    @Option(names = "--state-out", required = true, paramLabel = "S2.npz",
            description = "S with running_mean, running_var and num_batches_tracked replaced")
    Path stateOut;

    @Mixin
    BackendOption backend;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        try (NpyFloatReader x = NpyFloatReader.open(input)) {
            TensorLayout tensor = TensorLayout.of(layout, x.shape(), input);
            tensor.checkedBatchRows(batchSize);
            StateFile stored = StateFile.read(stateIn);
            FitCommand.temporaryBeside(stateOut); // the output's folder is usable, before the long read
            backend.apply();
            try (BatchNorm layer = StateLayer.load(stateIn, input, tensor.channels, null)) {
                if (!layer.config().trackRunningStats()) {
                    throw new IllegalArgumentException(stateIn + " is a layer without running statistics "
                            + "(track_running_stats false): there is nothing to recalibrate");
                }
                VarianceEstimator estimator = layer.config().runningVariance();
                if (estimator == VarianceEstimator.UNBIASED && tensor.valuesPerChannel(tensor.rows) < 2) {
                    throw new IllegalArgumentException(input + " has 1 value per channel; an unbiased variance "
                            + "needs at least 2");
                }
                PopulationStatistics population = accumulate(x, tensor);
                layer.setRunningStatistics(population);
                Map<String, NpyArray> members = stored.members();
                members.put(StateFile.RUNNING_MEAN, NpyArray.ofFloats(layer.runningMean()));
                members.put(StateFile.RUNNING_VAR, NpyArray.ofFloats(layer.runningVar()));
                members.put(StateFile.NUM_BATCHES_TRACKED, NpyArray.ofLong(layer.numBatchesTracked()));
                StateFile.write(stateOut, members);
                spec.commandLine().getOut().println("recalibrate: exact statistics of " + tensor.rows + " rows ("
                        + population.count() + " values per channel, " + population.batches() + " batches of up to "
                        + batchSize + " rows, " + (estimator == VarianceEstimator.UNBIASED ? "unbiased" : "biased")
                        + " variance) on " + layer.backendName() + "; state written to " + stateOut);
                return 0;
            }
        }
    }

    private PopulationStatistics accumulate(NpyFloatReader x, TensorLayout tensor) throws IOException {
        long batches = (tensor.rows + batchSize - 1) / batchSize;
        PopulationStatistics population = new PopulationStatistics(tensor.channels);
        try (Progress progress = Progress.start("recalibrate", batches, "batches", spec.commandLine().getErr())) {
            float[] in = new float[(int) (Math.min(batchSize, tensor.rows) * tensor.rowSize())];
            for (long b = 0; b < batches; b++) {
                long firstRow = b * batchSize;
                int rows = (int) Math.min(batchSize, tensor.rows - firstRow);
                x.read(firstRow * tensor.rowSize(), in, 0, (int) (rows * tensor.rowSize()));
                try {
                    population.add(tensor.batch(rows), in, 0);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(input + " rows " + firstRow + " to " + (firstRow + rows - 1)
                            + ": " + e.getMessage() + "; nothing written");
                }
                progress.step(null);
            }
        }
        return population;
    }
}

package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.BatchNormBuilder;
import io.github.batchnorm4j.VarianceEstimator;
import io.github.batchnorm4j.io.NpyFloatReader;
import io.github.batchnorm4j.io.NpyFloatWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bn4j fit}: runs X through one batch-norm layer in training mode, in consecutive
 * mini-batches, and writes the state (and optionally the outputs). Everything is checked before
 * the first batch; outputs appear only when the whole run succeeded.
 */
@Command(name = "fit", description = "Train one batch-norm layer's running statistics on X, batch by batch.")
final class FitCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "X.npy", description = "float32 input, C order")
    Path input;

    @Option(names = "--layout", required = true, paramLabel = "NC|NCHW|NHWC")
    TensorLayout.Kind layout;

    @Option(names = "--batch-size", required = true, paramLabel = "B")
    long batchSize;

    @ArgGroup(exclusive = true)
    Averaging averaging = new Averaging();

    static final class Averaging {
        @Option(names = "--momentum", paramLabel = "M", description = "weight of the new batch (default 0.1)")
        Double momentum;

        @Option(names = "--decay", paramLabel = "D", description = "weight of the old running value")
        Double decay;

        @Option(names = "--cumulative", description = "cumulative average (1/t), PyTorch's momentum=None")
        boolean cumulative;
    }

    @Option(names = "--eps", paramLabel = "E", description = "default 1e-5")
    Double eps;

    @Option(names = "--running-var", paramLabel = "unbiased|biased", description = "default unbiased")
    String runningVar;

    @Option(names = "--bias-correction", description = "divide the EWA by 1 - decay^t")
    boolean biasCorrection;

    @Option(names = "--renorm-rmax", paramLabel = "R",
            description = "Batch Renormalization: clip r to [1/R, R] (R >= 1; default 1 when --renorm-dmax is given)")
    Double renormRmax;

    @Option(names = "--renorm-dmax", paramLabel = "D",
            description = "Batch Renormalization: clip d to [-D, D] (D >= 0; default 0 when --renorm-rmax is given)")
    Double renormDmax;

    @Option(names = "--drop-last", description = "skip the last partial batch")
    boolean dropLast;

    @Option(names = "--state-in", paramLabel = "S0.npz", description = "initial gamma, beta and running statistics")
    Path stateIn;

    @Option(names = "--state-out", required = true, paramLabel = "S.npz")
    Path stateOut;

    @Option(names = "--output", paramLabel = "Y.npy", description = "the training-mode outputs of all batches")
    Path output;

    @Mixin
    BackendOption backend;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        try (NpyFloatReader x = NpyFloatReader.open(input)) {
            TensorLayout tensor = TensorLayout.of(layout, x.shape(), input);
            long batchRows = tensor.checkedBatchRows(batchSize);
            long batches = dropLast ? tensor.rows / batchSize : (tensor.rows + batchSize - 1) / batchSize;
            if (batches == 0) {
                throw new IllegalArgumentException(input + " has " + tensor.rows + " rows, fewer than --batch-size "
                        + batchSize + " with --drop-last: no batch to train on");
            }
            long lastRows = dropLast ? batchSize : tensor.rows - (batches - 1) * batchSize;
            for (long rows : new long[] {batchRows, lastRows}) {
                if (tensor.valuesPerChannel(rows) < 2) {
                    throw new IllegalArgumentException("a batch of " + rows + " row(s) of " + input + " has 1 value "
                            + "per channel; training needs more than 1 (use --drop-last or another --batch-size)");
                }
            }
            backend.apply();
            try (BatchNorm layer = buildLayer(tensor.channels)) {
                if (stateIn != null) {
                    layer.loadState(stateIn);
                }
                return run(x, tensor, layer, batches);
            }
        }
    }

    private BatchNorm buildLayer(int channels) {
        BatchNormBuilder builder = BatchNorm.builder(channels);
        if (averaging.momentum != null) {
            builder.momentum(averaging.momentum);
        } else if (averaging.decay != null) {
            builder.decay(averaging.decay);
        } else if (averaging.cumulative) {
            builder.cumulativeAverage();
        }
        if (eps != null) {
            builder.eps(eps);
        }
        if (runningVar != null) {
            if (!runningVar.equals("unbiased") && !runningVar.equals("biased")) {
                throw new IllegalArgumentException("--running-var must be unbiased or biased, got '" + runningVar + "'");
            }
            builder.runningVariance(runningVar.equals("biased") ? VarianceEstimator.BIASED : VarianceEstimator.UNBIASED);
        }
        builder.biasCorrection(biasCorrection);
        if (renormRmax != null || renormDmax != null) {
            builder.batchRenormalization(renormRmax == null ? 1 : renormRmax, renormDmax == null ? 0 : renormDmax);
        }
        return builder.build();
    }

    private int run(NpyFloatReader x, TensorLayout tensor, BatchNorm layer, long batches) throws IOException {
        long rowsUsed = Math.min(tensor.rows, batches * batchSize);
        long[] outShape = x.shape();
        outShape[0] = rowsUsed;
        Path stateTemp = temporaryBeside(stateOut);
        try (NpyFloatWriter y = output == null ? null : NpyFloatWriter.create(output, outShape);
                Progress progress = Progress.start("fit", batches, "batches", spec.commandLine().getErr())) {
            int capacity = (int) (Math.min(batchSize, tensor.rows) * tensor.rowSize());
            float[] in = new float[capacity], out = new float[capacity];
            for (long b = 0; b < batches; b++) {
                long firstRow = b * batchSize;
                int rows = (int) Math.min(batchSize, tensor.rows - firstRow);
                int count = (int) (rows * tensor.rowSize());
                x.read(firstRow * tensor.rowSize(), in, 0, count);
                layer.forwardTraining(tensor.batch(rows), in, 0, out, 0);
                if (y != null) {
                    y.write(out, 0, count);
                }
                progress.step(null);
            }
            layer.save(stateTemp);
            if (y != null) {
                y.commit();
            }
            Files.move(stateTemp, stateOut.toAbsolutePath(), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(stateTemp);
        }
        spec.commandLine().getOut().println("fit: " + batches + " batches of up to " + batchSize + " rows ("
                + rowsUsed + " of " + tensor.rows + " rows) on " + layer.backendName() + "; state written to "
                + stateOut + (output == null ? "" : ", outputs to " + output));
        return 0;
    }

    /** A fresh path in the target's directory (same file system, so the final move is atomic). */
    static Path temporaryBeside(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        if (directory == null || !Files.isDirectory(directory)) {
            throw new IOException(target + ": directory " + directory + " does not exist");
        }
        if (Files.isDirectory(absolute)) {
            throw new IOException(target + " is a directory");
        }
        if (!Files.isWritable(directory)) {
            throw new IOException(target + ": directory " + directory + " is not writable");
        }
        return directory.resolve("." + absolute.getFileName() + "." + ProcessHandle.current().pid() + "."
                + System.nanoTime() + ".tmp");
    }
}

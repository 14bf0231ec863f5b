package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.BatchNormBuilder;
import io.github.batchnorm4j.SyncBatchNorm;
import io.github.batchnorm4j.sync.Collective;
import io.github.batchnorm4j.sync.hazelcast.HazelcastCollective;
import io.github.batchnorm4j.VarianceEstimator;
import io.github.batchnorm4j.io.NpyFloatReader;
import io.github.batchnorm4j.io.NpyFloatWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
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

    @Option(names = "--sync-members", split = ",", paramLabel = "HOST:PORT,...",
            description = "synchronized batch statistics across processes: every process's address, in rank order")
    List<String> syncMembers;

    @Option(names = "--sync-rank", paramLabel = "R", description = "this process's rank (it listens at the R-th address)")
    Integer syncRank;

    @Option(names = "--sync-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "how long to wait for the others, to join and in each step (default ${DEFAULT-VALUE})")
    double syncTimeout;

    @Mixin
    BackendOption backend;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        try (NpyFloatReader x = NpyFloatReader.open(input)) {
            TensorLayout tensor = TensorLayout.of(layout, x.shape(), input);
            long batchRows = tensor.checkedBatchRows(batchSize);
            boolean synchronize = checkSyncOptions();
            long batches = dropLast ? tensor.rows / batchSize : (tensor.rows + batchSize - 1) / batchSize;
            if (batches == 0 && !synchronize) {
                throw new IllegalArgumentException(input + " has " + tensor.rows + " rows, fewer than --batch-size "
                        + batchSize + " with --drop-last: no batch to train on");
            }
            long lastRows = dropLast ? batchSize : tensor.rows - (batches - 1) * batchSize;
            for (long rows : new long[] {batchRows, lastRows}) {
                if (tensor.valuesPerChannel(rows) < 2 && !synchronize) { // synchronized: the whole step counts
                    throw new IllegalArgumentException("a batch of " + rows + " row(s) of " + input + " has 1 value "
                            + "per channel; training needs more than 1 (use --drop-last or another --batch-size)");
                }
            }
            backend.apply();
            try (BatchNorm layer = buildLayer(tensor.channels)) {
                if (stateIn != null) {
                    layer.load(stateIn);
                }
                if (!synchronize) {
                    return run(x, tensor, layer, batches, null);
                }
                try (Collective collective = joinGroup()) {
                    return run(x, tensor, layer, batches, collective);
                }
            }
        }
    }

    /**
     * Hazelcast's own warnings (a lost connection, with its stack trace) would bury the command's
     * one-line message; a failed step says which rank was lost. Held so the level stays set.
     */
    private static final java.util.logging.Logger HAZELCAST_LOG = java.util.logging.Logger.getLogger("com.hazelcast");

    /** This process's member of the group; Hazelcast is optional, so say so where it is missing. */
    private Collective joinGroup() {
        HAZELCAST_LOG.setLevel(java.util.logging.Level.SEVERE);
        try {
            return HazelcastCollective.join(syncMembers, syncRank, Duration.ofMillis((long) (syncTimeout * 1000)));
        } catch (NoClassDefFoundError e) {
            throw new IllegalStateException("--sync-members needs com.hazelcast:hazelcast on the class path "
                    + "(bn4j.jar has it; " + e.getMessage() + " is missing)");
        }
    }

    /** Whether this fit is synchronized; checks that the sync options come together and fit. */
    private boolean checkSyncOptions() {
        if (syncMembers == null && syncRank == null) {
            return false;
        }
        if (syncMembers == null || syncRank == null) {
            throw new IllegalArgumentException("--sync-members and --sync-rank go together");
        }
        if (syncRank < 0 || syncRank >= syncMembers.size()) {
            throw new IllegalArgumentException("--sync-rank " + syncRank + " is not one of the " + syncMembers.size()
                    + " --sync-members (0 to " + (syncMembers.size() - 1) + ")");
        }
        if (!(syncTimeout > 0)) {
            throw new IllegalArgumentException("--sync-timeout must be positive, got " + syncTimeout);
        }
        return true;
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

    /**
     * Trains on the batches and writes the outputs. Synchronized ({@code collective} not null),
     * step b normalizes the concatenation of every process's batch b; the processes first agree
     * on the batch size, C and the number of steps (the longest shard's), and a process whose
     * shard has run out joins the remaining steps with empty batches.
     */
    private int run(NpyFloatReader x, TensorLayout tensor, BatchNorm layer, long batches, Collective collective)
            throws IOException {
        long rowsUsed = Math.min(tensor.rows, batches * batchSize);
        long[] outShape = x.shape();
        outShape[0] = rowsUsed;
        long steps = collective == null ? batches : agreeOnSteps(collective, tensor, batches);
        SyncBatchNorm sync = collective == null ? null : new SyncBatchNorm(layer, collective);
        Path stateTemp = temporaryBeside(stateOut);
        try (NpyFloatWriter y = output == null ? null : NpyFloatWriter.create(output, outShape);
                Progress progress = Progress.start("fit", steps, "batches", spec.commandLine().getErr())) {
            int capacity = (int) (Math.min(batchSize, tensor.rows) * tensor.rowSize());
            float[] in = new float[capacity], out = new float[capacity];
            for (long b = 0; b < steps; b++) {
                if (b >= batches) {
                    sync.forwardTrainingEmpty();
                    progress.step(null);
                    continue;
                }
                long firstRow = b * batchSize;
                int rows = (int) Math.min(batchSize, tensor.rows - firstRow);
                int count = (int) (rows * tensor.rowSize());
                if (count != in.length && sync != null) { // the synchronized layer takes exact arrays
                    in = new float[count];
                    out = new float[count];
                }
                x.read(firstRow * tensor.rowSize(), in, 0, count);
                if (sync == null) {
                    layer.forwardTraining(tensor.batch(rows), in, 0, out, 0);
                } else {
                    sync.forwardTraining(tensor.batch(rows), in, out);
                }
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
                + rowsUsed + " of " + tensor.rows + " rows) on " + layer.backendName()
                + (collective == null ? "" : ", synchronized over " + steps + " steps with "
                        + collective.worldSize() + " processes as rank " + collective.rank())
                + "; state written to " + stateOut + (output == null ? "" : ", outputs to " + output));
        return 0;
    }

    /** Every process's batch size, C and batch count; the same batch size and C everywhere, or bad input. */
    private long agreeOnSteps(Collective collective, TensorLayout tensor, long batches) {
        double[][] plans = collective.allGather(new double[] {batchSize, tensor.channels, batches});
        long steps = 0;
        for (int r = 0; r < plans.length; r++) {
            if (plans[r][0] != batchSize || plans[r][1] != tensor.channels) {
                throw new IllegalArgumentException("rank " + r + " runs --batch-size " + (long) plans[r][0] + " on C="
                        + (long) plans[r][1] + " but rank " + collective.rank() + " --batch-size " + batchSize
                        + " on C=" + tensor.channels + "; every process needs the same");
            }
            steps = Math.max(steps, (long) plans[r][2]);
        }
        return steps;
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

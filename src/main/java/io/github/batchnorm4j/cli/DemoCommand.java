package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.demo.DigitsPipeline;
import io.github.batchnorm4j.demo.StudyChart;
import io.github.batchnorm4j.demo.TestTimeStudy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bn4j demo}: the main job; see {@link DigitsPipeline}. */
@Command(name = "demo", description = "Train a small MLP with batch norm on the UCI digits, then test it one "
        + "example at a time: running averages vs. each example's own batch statistics.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--epochs", defaultValue = "30", description = "default ${DEFAULT-VALUE}")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "32", description = "default ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--hidden", defaultValue = "64", description = "hidden units (= batch-norm channels), "
            + "default ${DEFAULT-VALUE}")
    int hidden;

    @Option(names = "--learning-rate", defaultValue = "0.1", description = "SGD step, default ${DEFAULT-VALUE}")
    float learningRate;

    @Option(names = "--seed", defaultValue = "7", description = "default ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--study", description = "also run the test-time study: small batches, a shifted domain, how "
            + "fast each running estimate converges, folding")
    boolean study;

    @Option(names = "--chart", paramLabel = "FILE.png", description = "with --study: write the convergence chart")
    Path chart;

    @Mixin
    BackendOption backend;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (epochs < 1 || batchSize < 2 || hidden < 1 || !(learningRate > 0)) {
            throw new IllegalArgumentException("need --epochs >= 1, --batch-size >= 2, --hidden >= 1 and "
                    + "--learning-rate > 0");
        }
        if (chart != null && !study) {
            throw new IllegalArgumentException("--chart draws the study's convergence: add --study");
        }
        if (chart != null) {
            FitCommand.temporaryBeside(chart); // its folder is usable, before the long run
        }
        backend.apply();
        PrintWriter out = spec.commandLine().getOut();
        DigitsPipeline.Result result;
        try (Progress progress = Progress.start("training", epochs, "epochs", spec.commandLine().getErr())) {
            result = DigitsPipeline.run(new DigitsPipeline.Settings(seed, epochs, batchSize, hidden, learningRate),
                    (epoch, total, loss, seconds) -> progress.step(String.format(Locale.ROOT, "loss %.4f", loss)));
        }
        out.printf(Locale.ROOT, "UCI digits: %d training and %d held-out test images (8x8), seed %d%n",
                result.trainCount(), result.testCount(), seed);
        out.printf(Locale.ROOT, "MLP 64 -> %d -> BatchNorm -> ReLU -> 10, %d epochs of batches of %d, final loss "
                + "%.4f%n%n", hidden, epochs, batchSize, result.finalLoss());
        out.println("test accuracy, one example at a time, normalized with:");
        out.printf(Locale.ROOT, "  running averages (the method)              %6.2f%%%n",
                100 * result.runningAverageAccuracy());
        out.printf(Locale.ROOT, "  the example's own batch statistics         %6.2f%%   (mean = the example, "
                + "variance 0: every unit outputs beta)%n", 100 * result.ownStatisticsAccuracy());
        out.printf(Locale.ROOT, "  batch statistics of the whole test set     %6.2f%%   (needs all %d examples at "
                + "once)%n%n", 100 * result.testSetStatisticsAccuracy(), result.testCount());
        out.printf(Locale.ROOT, "time per epoch:  %.1f ms%n", 1e3 * result.meanEpochSeconds());
        out.println("batch norm:      " + result.batchNormBackend());
        out.println("linear layers:   " + result.matrixMultiply());
        if (study) {
            DigitsPipeline.Settings settings = new DigitsPipeline.Settings(seed, epochs, batchSize, hidden, learningRate);
            TestTimeStudy.Result findings;
            try (Progress progress = Progress.start("study", 1, "runs", spec.commandLine().getErr())) {
                findings = TestTimeStudy.run(settings);
                progress.step(null);
            }
            new StudyReport(out).print(findings, settings);
            if (chart != null) {
                StudyChart.write(findings, chart);
                out.println("chart:           " + chart);
            }
        }
        return 0;
    }
}

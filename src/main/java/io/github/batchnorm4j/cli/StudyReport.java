package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.demo.DigitsPipeline;
import io.github.batchnorm4j.demo.TestTimeStudy;
import java.io.PrintWriter;
import java.util.Locale;

/** The test-time study's tables, as {@code bn4j demo --study} prints them. */
final class StudyReport {
    private final PrintWriter out;

    StudyReport(PrintWriter out) {
        this.out = out;
    }

    void print(TestTimeStudy.Result r, DigitsPipeline.Settings settings) {
        out.printf(Locale.ROOT, "%ntest-time study (one example at a time; every network from seed %d, %d epochs)%n",
                settings.seed(), settings.epochs());
        out.println();
        out.println("(b) small batches: accuracy with the running average, with population statistics recomputed");
        out.println("    after training (PreciseBN), and with Batch Renormalization in training ("
                + r.renormSchedule() + ")");
        out.println("    batch  learning rate  running average  population  renorm   renorm + population");
        for (TestTimeStudy.SmallBatchRow row : r.smallBatches()) {
            out.printf(Locale.ROOT, "    %5d  %13.5f  %14.2f%%  %9.2f%%  %6.2f%%  %18.2f%%%n", row.batchSize(),
                    row.learningRate(), 100 * row.runningAverage(), 100 * row.population(), 100 * row.renorm(),
                    100 * row.renormPopulation());
        }
        out.println();
        out.println("(c) a shifted test domain: the training statistics against statistics recalibrated on the");
        out.println("    training images carried into that domain (unlabeled; AdaBN), then the shifted test images");
        for (TestTimeStudy.DomainRow row : r.domains()) {
            out.printf(Locale.ROOT, "    %-34s training %6.2f%%   recalibrated %6.2f%%%n", row.domain(),
                    100 * row.trainingStatistics(), 100 * row.recalibrated());
        }
        out.println();
        out.println("(d) error of each running estimate against the population statistics of the current weights");
        out.println("    (mean: |error| / population std; variance: |estimate / population - 1|; channel average)");
        StringBuilder header = new StringBuilder("     step");
        for (String name : r.estimators()) {
            header.append(String.format(Locale.ROOT, "  %-31s", name));
        }
        out.println(header);
        StringBuilder sub = new StringBuilder("         ");
        for (int e = 0; e < r.estimators().size(); e++) {
            sub.append(String.format(Locale.ROOT, "  %-15s%-16s", "mean", "variance"));
        }
        out.println(sub);
        for (TestTimeStudy.ConvergencePoint point : r.convergence()) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "    %5d", point.step()));
            for (int e = 0; e < r.estimators().size(); e++) {
                line.append(String.format(Locale.ROOT, "  %-15.4f%-16.4f", point.meanError()[e],
                        point.varianceError()[e]));
            }
            out.println(line);
        }
        out.println();
        TestTimeStudy.FoldResult fold = r.fold();
        out.printf(Locale.ROOT, "(e) batch norm folded into the first linear layer: %d of %d test predictions identical; "
                + "largest logit difference %.2e (%.2e relative)%n%n", fold.identical(), fold.total(),
                fold.maxLogitDifference(), fold.maxRelativeLogitDifference());
    }
}

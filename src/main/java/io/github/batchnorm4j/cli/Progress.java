package io.github.batchnorm4j.cli;

import java.io.PrintWriter;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of long work: a progress bar on stderr when it is a terminal, otherwise a plain line
 * at every tenth of the work (logs and CI stay readable).
 */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final PrintWriter plain;
    private final String task;
    private final long total;
    private long done;
    private int lastTenth;

    private Progress(ProgressBar bar, PrintWriter plain, String task, long total) {
        this.bar = bar;
        this.plain = plain;
        this.task = task;
        this.total = total;
    }

    /** {@code err} receives the plain lines when there is no terminal. */
    static Progress start(String task, long total, String unit, PrintWriter err) {
        if (System.console() != null && System.getenv("BN4J_PLAIN_PROGRESS") == null) {
            ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, 1)
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                    .showSpeed().build();
            return new Progress(bar, null, task, total);
        }
        return new Progress(null, err, task, total);
    }

    void step(String detail) {
        done++;
        if (bar != null) {
            bar.step();
            if (detail != null) {
                bar.setExtraMessage(" " + detail);
            }
            return;
        }
        int tenth = total == 0 ? 10 : (int) (done * 10 / total);
        if (tenth > lastTenth || done == total) {
            lastTenth = tenth;
            plain.println(task + ": " + done + "/" + total + (detail == null ? "" : " " + detail));
            plain.flush();
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}

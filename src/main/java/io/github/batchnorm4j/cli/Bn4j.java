package io.github.batchnorm4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * {@code bn4j}: the command line of batchnorm4j. Exit 0 on success; 2 on bad usage or bad input,
 * with a one-line message on stderr and no stack trace; 1 on an internal failure.
 */
@Command(name = "bn4j", mixinStandardHelpOptions = true, version = "bn4j 0.1.0",
        description = "Batch normalization with running statistics, on CUDA or the CPU.",
        subcommands = {InfoCommand.class, FitCommand.class, ApplyCommand.class, RecalibrateCommand.class,
                FoldCommand.class, DemoCommand.class,
                BenchCommand.class})
public final class Bn4j implements Runnable {
    static final int BAD_INPUT = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Held so the setting sticks: java.util.logging keeps loggers weakly. */
    private static final java.util.logging.Logger LIBRARY_LOG = java.util.logging.Logger.getLogger("io.github.batchnorm4j");

    public static void main(String[] args) {
        // The commands print the backend and its reason themselves; the library's log line would repeat it.
        LIBRARY_LOG.setLevel(java.util.logging.Level.WARNING);
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs one command line with the given streams; returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine commandLine = new CommandLine(new Bn4j());
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setExecutionExceptionHandler((e, line, parsed) -> {
            boolean badInput = e instanceof IllegalArgumentException || e instanceof java.io.IOException
                    || e instanceof java.io.UncheckedIOException || e instanceof IllegalStateException;
            line.getErr().println("bn4j " + line.getCommandName() + ": " + message(e));
            return badInput ? BAD_INPUT : 1;
        });
        return commandLine.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command: info, fit, apply, recalibrate, fold, demo or bench");
    }

    private static String message(Throwable e) {
        if (e instanceof java.nio.file.NoSuchFileException missing) {
            return "no such file: " + missing.getFile();
        }
        String text = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }
}

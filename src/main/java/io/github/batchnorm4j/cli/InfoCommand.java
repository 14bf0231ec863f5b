package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.BatchNormRuntime;
import io.github.batchnorm4j.BatchNorm;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code bn4j info}: the backend that would be chosen, why, and the device. */
@Command(name = "info", description = "Show the backend that would be chosen and why, and the device.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    BackendOption backend;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        backend.apply();
        String report = BatchNormRuntime.backendReport();
        int colon = report.indexOf(": ");
        String chosen = colon < 0 ? report : report.substring(0, colon);
        String why = colon < 0 ? "" : report.substring(colon + 2);
        spec.commandLine().getOut().println("backend: " + chosen);
        spec.commandLine().getOut().println(chosen.equals("cuda") ? "device:  " + why : "why:     " + why);
        spec.commandLine().getOut().println("cpu:     " + BatchNormRuntime.cpuLoopsReport());
        spec.commandLine().getOut().println("java:    " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.version") + ", " + Runtime.getRuntime().availableProcessors() + " cores");
        return 0;
    }
}

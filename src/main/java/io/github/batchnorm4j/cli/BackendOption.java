package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.BatchNormProperty;
import picocli.CommandLine.Option;

/** {@code --backend auto|cpu|cuda}: sets the library's backend property before any layer exists. */
final class BackendOption {
    enum Choice {
        auto, cpu, cuda
    }

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda",
            description = "where batch norm runs (default: auto, or BATCHNORM4J_BACKEND)")
    Choice backend;

    void apply() {
        if (backend != null) {
            System.setProperty(BatchNormProperty.BACKEND.key(), backend.name());
        }
    }
}

package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.io.NpyFloatReader;
import io.github.batchnorm4j.io.NpyFloatWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bn4j apply}: inference with a state's running statistics, streamed in slices of rows
 * (each row is normalized on its own, so the slicing does not change any value).
 */
@Command(name = "apply", description = "Normalize X with the running statistics of a state file (inference).")
final class ApplyCommand implements Callable<Integer> {
    /** Rows per slice: bounded by floats, so any row size streams with a small heap. */
    private static final long SLICE_FLOATS = 1 << 22;

    @Option(names = "--input", required = true, paramLabel = "X.npy")
    Path input;

    @Option(names = "--layout", required = true, paramLabel = "NC|NCHW|NHWC")
    TensorLayout.Kind layout;

    @Option(names = "--state", required = true, paramLabel = "S.npz",
            description = "written by bn4j fit or BatchNorm.save, or a PyTorch BatchNorm state_dict")
    Path state;

    @Option(names = "--output", required = true, paramLabel = "Y.npy")
    Path output;

    @Option(names = "--eps", paramLabel = "E", description = "default: the eps recorded in the state (else 1e-5)")
    Double eps;

    @Mixin
    BackendOption backend;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        try (NpyFloatReader x = NpyFloatReader.open(input)) {
            TensorLayout tensor = TensorLayout.of(layout, x.shape(), input);
            backend.apply();
            try (BatchNorm layer = StateLayer.load(state, input, tensor.channels, eps)) {
                long sliceRows = Math.max(1, SLICE_FLOATS / tensor.rowSize());
                tensor.checkBatchFits(Math.min(sliceRows, tensor.rows), "rows this large are not supported");
                long slices = (tensor.rows + sliceRows - 1) / sliceRows;
                int capacity = (int) (Math.min(sliceRows, tensor.rows) * tensor.rowSize());
                float[] in = new float[capacity], out = new float[capacity];
                try (NpyFloatWriter y = NpyFloatWriter.create(output, x.shape());
                        Progress progress = Progress.start("apply", slices, "slices", spec.commandLine().getErr())) {
                    for (long first = 0; first < tensor.rows; first += sliceRows) {
                        int rows = (int) Math.min(sliceRows, tensor.rows - first);
                        int count = (int) (rows * tensor.rowSize());
                        x.read(first * tensor.rowSize(), in, 0, count);
                        layer.forwardInference(tensor.batch(rows), in, 0, out, 0);
                        y.write(out, 0, count);
                        progress.step(null);
                    }
                    y.commit();
                }
                spec.commandLine().getOut().println("apply: " + tensor.rows + " rows normalized with the running "
                        + "statistics of " + state + " (eps " + layer.config().eps() + ") on " + layer.backendName()
                        + "; written to " + output);
                return 0;
            }
        }
    }
}

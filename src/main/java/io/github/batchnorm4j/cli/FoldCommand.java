package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.InferenceAffine;
import io.github.batchnorm4j.internal.io.NpyArray;
import io.github.batchnorm4j.internal.io.StateFile;
import io.github.batchnorm4j.io.NpyFloatReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bn4j fold}: folds a batch norm's inference map into the linear layer or convolution
 * before it, and writes the new {@code weight} and {@code bias} as an {@code .npz}.
 */
@Command(name = "fold", description = "Fold a batch norm's inference map into the preceding layer's weights.")
final class FoldCommand implements Callable<Integer> {
    @Option(names = "--state", required = true, paramLabel = "S.npz",
            description = "the batch norm: written by bn4j fit or BatchNorm.save, or a PyTorch state_dict")
    Path state;

    @Option(names = "--weight", required = true, paramLabel = "W.npy",
            description = "float32 (C, inputs) of a linear layer or (C, inputs, kh, kw) of a convolution")
    Path weight;

    @Option(names = "--bias", paramLabel = "B.npy", description = "float32 (C,): the layer's bias (default none)")
    Path bias;

    @Option(names = "--out", required = true, paramLabel = "F.npz", description = "weight and bias, folded")
    Path out;

    @Mixin
    BackendOption backend;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        long[] shape;
        float[] w;
        try (NpyFloatReader reader = NpyFloatReader.open(weight)) {
            shape = reader.shape();
            if (shape.length != 2 && shape.length != 4) {
                throw new IllegalArgumentException(weight + " has shape " + Arrays.toString(shape) + "; a weight is "
                        + "(C, inputs) for a linear layer or (C, inputs, kh, kw) for a convolution");
            }
            if (reader.elementCount() > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(weight + " holds " + reader.elementCount()
                        + " values, more than one Java array holds");
            }
            w = new float[(int) reader.elementCount()];
            reader.read(0, w, 0, w.length);
        }
        int channels = StateLayer.channels(state);
        if (shape[0] != channels) {
            throw new IllegalArgumentException(weight + " has shape " + Arrays.toString(shape) + ": its first "
                    + "dimension " + shape[0] + " must be the batch norm's C=" + channels + " of " + state);
        }
        float[] b = bias == null ? null : readBias(channels);
        FitCommand.temporaryBeside(out);
        backend.apply();
        InferenceAffine.Folded folded;
        try (BatchNorm layer = StateLayer.load(state, weight, channels, null)) {
            folded = layer.inferenceAffine().foldInto(w, shape, b);
        }
        Map<String, NpyArray> members = new LinkedHashMap<>();
        members.put("weight", NpyArray.ofFloats(folded.weight(), folded.shape()));
        members.put("bias", NpyArray.ofFloats(folded.bias()));
        StateFile.write(out, members);
        spec.commandLine().getOut().println("fold: " + state + " folded into " + weight + " "
                + Arrays.toString(shape) + (bias == null ? "" : " and " + bias) + "; weight and bias written to " + out);
        return 0;
    }

    private float[] readBias(int channels) throws IOException {
        try (NpyFloatReader reader = NpyFloatReader.open(bias)) {
            if (reader.shape().length != 1 || reader.shape()[0] != channels) {
                throw new IllegalArgumentException(bias + " has shape " + Arrays.toString(reader.shape())
                        + " but the bias must be (" + channels + ",), one value per channel");
            }
            float[] values = new float[channels];
            reader.read(0, values, 0, channels);
            return values;
        }
    }
}

package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.BatchNormBuilder;
import io.github.batchnorm4j.StateFileException;
import io.github.batchnorm4j.internal.io.NpyArray;
import io.github.batchnorm4j.internal.io.StateFile;
import java.io.IOException;
import java.nio.file.Path;

/** The layer a state file describes, for commands that take a state and data of C channels. */
final class StateLayer {
    private StateLayer() {
    }

    /**
     * C as the state records it, or for a plain PyTorch state_dict as the length of its
     * running_mean (or weight); a file with neither is a {@link StateFileException}.
     */
    static int channels(Path state) throws IOException {
        StateFile stored = StateFile.read(state);
        if (stored.has(StateFile.CHANNELS)) {
            return (int) Math.min(Integer.MAX_VALUE, stored.countScalar(StateFile.CHANNELS));
        }
        for (String member : new String[] {StateFile.RUNNING_MEAN, StateFile.WEIGHT}) {
            NpyArray vector = stored.member(member);
            if (vector != null && vector.shape.length == 1) {
                return (int) Math.min(Integer.MAX_VALUE, vector.shape[0]);
            }
        }
        throw new StateFileException(state, "has neither a running_mean nor a weight of shape (C,): it is not a "
                + "batch norm state");
    }

    /**
     * The state's layer with its recorded settings; a plain PyTorch state_dict gets PyTorch's
     * defaults and the input's C. {@code eps}, when given, replaces the recorded eps. A state of
     * another C than {@code input}'s is an {@link IllegalArgumentException} naming both.
     */
    static BatchNorm load(Path state, Path input, int channels, Double eps) throws IOException {
        BatchNorm recorded;
        try {
            recorded = BatchNorm.fromFile(state);
        } catch (StateFileException e) {
            if (!e.getMessage().contains("has no batchnorm4j settings")) {
                throw e;
            }
            recorded = null;
        }
        int stateChannels = recorded != null ? recorded.config().channels() : channels(state);
        if (stateChannels != channels) {
            if (recorded != null) {
                recorded.close();
            }
            throw new IllegalArgumentException(state + " is a layer of C=" + stateChannels + " channels but " + input
                    + " has C=" + channels);
        }
        if (recorded != null && eps == null) {
            return recorded;
        }
        BatchNormBuilder builder = BatchNorm.builder(channels);
        if (recorded != null) {
            builder.affine(recorded.config().affine()).trackRunningStats(recorded.config().trackRunningStats())
                    .runningVariance(recorded.config().runningVariance());
            recorded.close();
        }
        if (eps != null) {
            builder.eps(eps);
        }
        BatchNorm layer = builder.build();
        try {
            layer.load(state);
        } catch (IOException | RuntimeException e) {
            layer.close();
            throw e;
        }
        return layer;
    }
}

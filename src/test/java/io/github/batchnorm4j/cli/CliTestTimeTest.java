package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.ReferenceLayers;
import io.github.batchnorm4j.VarianceEstimator;
import io.github.batchnorm4j.internal.io.StateFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code bn4j recalibrate} and {@code bn4j fold} against PyTorch's golden files
 * (scripts/make-cli-golden.py) and a float64 reference, and their bad-input paths: exit 2, one
 * line on stderr, nothing written.
 */
class CliTestTimeTest {
    @TempDir
    Path dir;

    // ---- recalibrate ----

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 4, 10, 64})
    void recalibrateMatchesTorchVarOverAllValues(int batchSize) throws IOException {
        Path out = dir.resolve("s2.npz"), outNhwc = dir.resolve("s2_nhwc.npz");
        CliRun run = CliRun.of("recalibrate", "--input", golden("x_nchw.npy").toString(), "--layout", "NCHW",
                "--batch-size", "" + batchSize, "--state-in", golden("momentum_state.npz").toString(), "--state-out",
                out.toString());
        assertEquals(0, run.exitCode(), run.toString());
        StateFile want = StateFile.read(golden("recalibrated_state.npz"));
        StateFile got = StateFile.read(out);
        assertClose("recalibrated mean", want.channelVector(StateFile.RUNNING_MEAN, 3, false),
                got.channelVector(StateFile.RUNNING_MEAN, 3, false), 1e-6);
        assertClose("recalibrated variance", want.channelVector(StateFile.RUNNING_VAR, 3, true),
                got.channelVector(StateFile.RUNNING_VAR, 3, true), 1e-6);
        StateFile before = StateFile.read(golden("momentum_state.npz"));
        for (String kept : new String[] {StateFile.WEIGHT, StateFile.BIAS}) {
            assertArrayEquals(before.channelVector(kept, 3, false), got.channelVector(kept, 3, false), kept + " kept");
        }
        assertEquals(before.members().keySet(), got.members().keySet(), "the same members, no more");
        assertEquals((10 + batchSize - 1) / batchSize, got.countScalar(StateFile.NUM_BATCHES_TRACKED));

        // the NHWC copy of the same tensor gives the same statistics, bit for bit
        CliRun nhwc = CliRun.of("recalibrate", "--input", golden("x_nhwc.npy").toString(), "--layout", "NHWC",
                "--batch-size", "" + batchSize, "--state-in", golden("momentum_state.npz").toString(), "--state-out",
                outNhwc.toString());
        assertEquals(0, nhwc.exitCode(), nhwc.toString());
        StateFile fromNhwc = StateFile.read(outNhwc);
        for (String member : new String[] {StateFile.RUNNING_MEAN, StateFile.RUNNING_VAR}) {
            assertArrayEquals(got.channelVector(member, 3, false), fromNhwc.channelVector(member, 3, false), member);
        }
    }

    @Test
    void recalibrateKeepsABiasedLayerBiasedAndItsSettings() throws IOException {
        Path state = dir.resolve("biased.npz"), out = dir.resolve("out.npz");
        try (BatchNorm layer = BatchNorm.builder(5).runningVariance(VarianceEstimator.BIASED).eps(1e-3).build()) {
            layer.setGamma(new float[] {1, 2, 3, 4, 5});
            layer.save(state);
        }
        Path x = golden("x_nc.npy");
        CliRun run = CliRun.of("recalibrate", "--input", x.toString(), "--layout", "NC", "--batch-size", "2",
                "--state-in", state.toString(), "--state-out", out.toString());
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().contains("biased variance"), run.out());
        float[] values = CliTest.read(x); // (9, 5)
        float[] mean = new float[5], variance = new float[5];
        for (int c = 0; c < 5; c++) {
            double sum = 0, squares = 0;
            for (int n = 0; n < 9; n++) {
                sum += values[n * 5 + c];
            }
            for (int n = 0; n < 9; n++) {
                double d = values[n * 5 + c] - sum / 9;
                squares += d * d;
            }
            mean[c] = (float) (sum / 9);
            variance[c] = (float) (squares / 9);
        }
        try (BatchNorm loaded = BatchNorm.fromFile(out)) {
            assertArrayEquals(mean, loaded.runningMean());
            assertArrayEquals(variance, loaded.runningVar());
            assertEquals(5, loaded.numBatchesTracked());
            assertEquals(VarianceEstimator.BIASED, loaded.config().runningVariance());
            assertEquals(1e-3, loaded.config().eps());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5}, loaded.gamma());
        }
    }

    @Test
    void recalibrateRefusesBadInputAndWritesNothing() throws IOException {
        Path good = golden("x_nchw.npy"), state = golden("momentum_state.npz"), out = dir.resolve("out.npz");
        Path nc = golden("x_nc.npy"), one = dir.resolve("one.npy"), nan = dir.resolve("nan.npy");
        Path empty = dir.resolve("empty.npy");
        CliTest.write(one, new float[] {1, 2, 3}, 1, 3);
        CliTest.write(empty, new float[0], 0, 3);
        float[] values = CliTest.read(good);
        values[values.length - 1] = Float.NaN;
        CliTest.write(nan, values, 10, 3, 2, 3);
        Path untracked = dir.resolve("untracked.npz");
        try (BatchNorm layer = BatchNorm.builder(3).trackRunningStats(false).build()) {
            layer.save(untracked);
        }
        String[][] cases = {
            {"is a layer of C=3 channels but", nc.toString(), "NC", "4", state.toString()},
            {"rows 8 to 9", nan.toString(), "NCHW", "4", state.toString()},
            {"NaN or an infinity in channel 2", nan.toString(), "NCHW", "4", state.toString()},
            {"unbiased variance needs at least 2", one.toString(), "NC", "4", state.toString()},
            {"has no rows", empty.toString(), "NC", "4", state.toString()},
            {"--batch-size must be at least 1", good.toString(), "NCHW", "0", state.toString()},
            {"nothing to recalibrate", good.toString(), "NCHW", "4", untracked.toString()},
            {"needs rank 4", nc.toString(), "NCHW", "4", state.toString()},
            {"no such file: ", good.toString(), "NCHW", "4", dir.resolve("missing.npz").toString()},
        };
        for (String[] c : cases) {
            CliRun run = CliRun.of("recalibrate", "--input", c[1], "--layout", c[2], "--batch-size", c[3],
                    "--state-in", c[4], "--state-out", out.toString());
            assertBadInput(run, c[0]);
            assertFalse(Files.exists(out), c[0] + ": nothing written");
            assertNoTemporaryFiles(c[0]);
        }
    }

    // ---- fit with Batch Renormalization ----

    @Test
    void fitWithRenormalizationRunsTheLayersAlgorithm() throws IOException {
        Path x = golden("x_nchw.npy");
        Path plainState = dir.resolve("plain.npz"), plainY = dir.resolve("plain.npy");
        Path neutralState = dir.resolve("neutral.npz"), neutralY = dir.resolve("neutral.npy");
        Path renormState = dir.resolve("renorm.npz"), renormY = dir.resolve("renorm.npy");
        String[] common = {"fit", "--input", x.toString(), "--layout", "NCHW", "--batch-size", "4"};
        CliRun plain = CliRun.of(concat(common, "--state-out", plainState.toString(), "--output", plainY.toString()));
        CliRun neutral = CliRun.of(concat(common, "--renorm-rmax", "1", "--renorm-dmax", "0", "--state-out",
                neutralState.toString(), "--output", neutralY.toString()));
        CliRun renorm = CliRun.of(concat(common, "--renorm-rmax", "1.5", "--renorm-dmax", "0.5", "--state-out",
                renormState.toString(), "--output", renormY.toString()));
        for (CliRun run : new CliRun[] {plain, neutral, renorm}) {
            assertEquals(0, run.exitCode(), run.toString());
        }
        assertArrayEquals(CliTest.read(plainY), CliTest.read(neutralY), "rmax 1, dmax 0 is plain batch norm");
        // the same batches through the library, as fit runs them
        float[] values = CliTest.read(x), want = new float[values.length];
        try (BatchNorm layer = BatchNorm.builder(3).batchRenormalization(1.5, 0.5).build();
                BatchNorm fitted = BatchNorm.fromFile(renormState)) {
            int row = 3 * 2 * 3;
            for (int first = 0; first < 10; first += 4) {
                int rows = Math.min(4, 10 - first);
                float[] in = java.util.Arrays.copyOfRange(values, first * row, (first + rows) * row);
                float[] out = new float[in.length];
                layer.forwardTraining(io.github.batchnorm4j.Shape.nchw(rows, 3, 2, 3), in, out);
                System.arraycopy(out, 0, want, first * row, out.length);
            }
            assertArrayEquals(want, CliTest.read(renormY));
            assertArrayEquals(layer.runningMean(), fitted.runningMean());
            assertEquals(1.5, fitted.renormRmax());
            assertEquals(0.5, fitted.renormDmax());
        }
        for (String[] bad : new String[][] {{"--renorm-rmax", "0.5", "rmax must be finite and at least 1"},
            {"--renorm-dmax", "-1", "dmax must be finite and at least 0"}}) {
            Path out = dir.resolve("bad.npz");
            CliRun run = CliRun.of(concat(common, bad[0], bad[1], "--state-out", out.toString()));
            assertBadInput(run, bad[2]);
            assertFalse(Files.exists(out), bad[2] + ": nothing written");
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    // ---- fold ----

    @ParameterizedTest
    @ValueSource(strings = {"linear", "conv"})
    void foldMatchesTorchFusionAndTheUnfusedLayers(String kind) throws IOException {
        Path out = dir.resolve(kind + ".npz");
        CliRun run = CliRun.of("fold", "--state", golden("fold_bn.npz").toString(), "--weight",
                golden("fold_" + kind + "_w.npy").toString(), "--bias", golden("fold_" + kind + "_b.npy").toString(),
                "--out", out.toString());
        assertEquals(0, run.exitCode(), run.toString());
        StateFile fused = StateFile.read(golden("fold_" + kind + "_fused.npz"));
        StateFile got = StateFile.read(out);
        float[] weight = got.member("weight").toFloats(), bias = got.member("bias").toFloats();
        assertArrayEquals(fused.member("weight").shape, got.member("weight").shape, "weight shape");
        assertClose(kind + " folded weight vs torch", fused.member("weight").toFloats(), weight, 1e-6);
        assertClose(kind + " folded bias vs torch", fused.member("bias").toFloats(), bias, 1e-6);

        // the folded layer, run in float64, predicts what PyTorch's unfused layers did
        float[] x = CliTest.read(golden("fold_" + kind + "_x.npy"));
        float[] want = CliTest.read(golden("fold_" + kind + "_y.npy"));
        float[] y = kind.equals("linear") ? ReferenceLayers.linear(x, 5, 4, weight, bias, 3)
                : ReferenceLayers.convolution(x, 2, 2, 5, 6, weight, bias, 3);
        assertClose(kind + " folded output vs unfused torch", want, y, 1e-5);

        Path noBias = dir.resolve(kind + "_nobias.npz");
        CliRun without = CliRun.of("fold", "--state", golden("fold_bn.npz").toString(), "--weight",
                golden("fold_" + kind + "_w.npy").toString(), "--out", noBias.toString());
        assertEquals(0, without.exitCode(), without.toString());
        StateFile folded = StateFile.read(noBias);
        assertArrayEquals(weight, folded.member("weight").toFloats());
        float[] shift = folded.member("bias").toFloats(), b = CliTest.read(golden("fold_" + kind + "_b.npy"));
        float[] scaledBias = new float[3];
        for (int c = 0; c < 3; c++) {
            scaledBias[c] = bias[c] - shift[c]; // scale * b_prev
            double scale = weight[c * (weight.length / 3)] / (double) CliTest.read(golden("fold_" + kind + "_w.npy"))[c
                    * (weight.length / 3)];
            assertEquals(scale * b[c], scaledBias[c], 1e-5, "bias without --bias is the shift alone");
        }
    }

    @Test
    void foldRefusesBadInputAndWritesNothing() throws IOException {
        Path state = golden("fold_bn.npz"), out = dir.resolve("out.npz");
        Path fourRows = dir.resolve("w4.npy"), rank3 = dir.resolve("w3.npy"), bias2 = dir.resolve("b2.npy");
        CliTest.write(fourRows, new float[8], 4, 2);
        CliTest.write(rank3, new float[6], 3, 1, 2);
        CliTest.write(bias2, new float[2], 2);
        Path untracked = dir.resolve("untracked.npz");
        try (BatchNorm layer = BatchNorm.builder(3).trackRunningStats(false).build()) {
            layer.save(untracked);
        }
        Path w = golden("fold_linear_w.npy");
        String[][] cases = {
            {"first dimension 4 must be the batch norm's C=3", state.toString(), fourRows.toString(), null},
            {"(C, inputs) for a linear layer", state.toString(), rank3.toString(), null},
            {"the bias must be (3,)", state.toString(), w.toString(), bias2.toString()},
            {"it has no running statistics", untracked.toString(), w.toString(), null},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("fold", "--state", c[1], "--weight", c[2], "--out",
                    out.toString()));
            if (c[3] != null) {
                args.addAll(List.of("--bias", c[3]));
            }
            CliRun run = CliRun.of(args.toArray(String[]::new));
            assertBadInput(run, c[0]);
            assertFalse(Files.exists(out), c[0] + ": nothing written");
            assertNoTemporaryFiles(c[0]);
        }
    }

    private void assertNoTemporaryFiles(String what) throws IOException {
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), what + ": no temp files");
        }
    }

    private static void assertBadInput(CliRun run, String fragment) {
        assertEquals(2, run.exitCode(), fragment + ": " + run);
        assertTrue(run.err().contains(fragment), "stderr names the problem (" + fragment + "): " + run.err());
        assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
    }

    private static void assertClose(String what, float[] want, float[] got, double tolerance) {
        assertEquals(want.length, got.length, what + " length");
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs(want[i] - got[i]) <= tolerance * Math.max(1, Math.abs(want[i])))) {
                fail(what + " [" + i + "]: want " + want[i] + ", got " + got[i]);
            }
        }
    }

    private Path golden(String name) throws IOException {
        return CliTest.golden(dir, name);
    }
}

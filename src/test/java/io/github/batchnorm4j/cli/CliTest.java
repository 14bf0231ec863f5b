package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.BatchNormBuilder;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.VarianceEstimator;
import io.github.batchnorm4j.io.NpyFloatReader;
import io.github.batchnorm4j.io.NpyFloatWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bn4j end to end, in process: fit and apply against PyTorch's golden files and against the
 * library API, and every error path (exit code 2, one line on stderr, nothing written, existing
 * files untouched).
 */
class CliTest {
    @TempDir
    Path dir;

    // ---- against PyTorch ----

    @ParameterizedTest
    @ValueSource(strings = {"momentum", "cumulative"})
    void fitAndApplyMatchPyTorch(String mode) throws IOException {
        for (String layout : new String[] {"NCHW", "NHWC"}) {
            Path x = golden("x_" + layout.toLowerCase() + ".npy");
            Path state = dir.resolve(layout + mode + ".npz"), y = dir.resolve(layout + mode + "_y.npy");
            List<String> args = new ArrayList<>(List.of("fit", "--input", x.toString(), "--layout", layout,
                    "--batch-size", "4", "--state-out", state.toString(), "--output", y.toString()));
            if (mode.equals("cumulative")) {
                args.add("--cumulative");
            }
            CliRun fit = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, fit.exitCode(), fit.toString());
            float[] want = read(golden(mode + "_y.npy"));
            float[] got = read(y);
            assertClose(mode + " " + layout + " y", want, layout.equals("NHWC") ? nhwcToNchw(got, 10, 3, 2, 3) : got,
                    1e-5);
            try (BatchNorm fitted = BatchNorm.fromFile(state); BatchNorm reference = pytorchState(mode + "_state.npz", 3)) {
                assertClose(mode + " running mean", reference.runningMean(), fitted.runningMean(), 1e-6);
                assertClose(mode + " running var", reference.runningVar(), fitted.runningVar(), 1e-6);
                assertEquals(reference.numBatchesTracked(), fitted.numBatchesTracked());
                assertEquals(3, fitted.numBatchesTracked(), "batches of 4, 4 and the last partial 2");
            }

            Path out = dir.resolve(layout + mode + "_eval.npy");
            CliRun apply = CliRun.of("apply", "--input", x.toString(), "--layout", layout, "--state", state.toString(),
                    "--output", out.toString());
            assertEquals(0, apply.exitCode(), apply.toString());
            got = read(out);
            assertClose(mode + " " + layout + " eval", read(golden(mode + "_eval.npy")),
                    layout.equals("NHWC") ? nhwcToNchw(got, 10, 3, 2, 3) : got, 1e-5);

            Path one = dir.resolve(layout + "_one.npy");
            float[] all = read(x);
            long[] shape = shapeOf(x);
            shape[0] = 1;
            write(one, Arrays.copyOf(all, 18), shape);
            apply = CliRun.of("apply", "--input", one.toString(), "--layout", layout, "--state", state.toString(),
                    "--output", out.toString());
            assertEquals(0, apply.exitCode(), apply.toString());
            got = read(out);
            assertClose(mode + " " + layout + " eval of N = 1", read(golden(mode + "_eval1.npy")),
                    layout.equals("NHWC") ? nhwcToNchw(got, 1, 3, 2, 3) : got, 1e-5);
        }
    }

    @Test
    void applyReadsAPlainPyTorchStateDict() throws IOException {
        Path out = dir.resolve("eval.npy");
        CliRun apply = CliRun.of("apply", "--input", golden("x_nchw.npy").toString(), "--layout", "NCHW", "--state",
                golden("momentum_state.npz").toString(), "--output", out.toString());
        assertEquals(0, apply.exitCode(), apply.toString());
        assertClose("eval from a PyTorch state_dict", read(golden("momentum_eval.npy")), read(out), 1e-5);
    }

    @Test
    void dropLastSkipsTheBatchOfOneAndWithoutItTheRunIsRefused() throws IOException {
        Path x = golden("x_nc.npy"), state = dir.resolve("nc.npz");
        CliRun refused = CliRun.of("fit", "--input", x.toString(), "--layout", "NC", "--batch-size", "4",
                "--state-out", state.toString());
        assertBadInput(refused, "a batch of 1 row(s) of");
        assertFalse(Files.exists(state));
        CliRun fit = CliRun.of("fit", "--input", x.toString(), "--layout", "NC", "--batch-size", "4", "--drop-last",
                "--state-out", state.toString());
        assertEquals(0, fit.exitCode(), fit.toString());
        try (BatchNorm fitted = BatchNorm.fromFile(state); BatchNorm reference = pytorchState("nc_drop_last_state.npz", 5)) {
            assertClose("drop-last running mean", reference.runningMean(), fitted.runningMean(), 1e-6);
            assertClose("drop-last running var", reference.runningVar(), fitted.runningVar(), 1e-6);
            assertEquals(2, fitted.numBatchesTracked());
        }
    }

    // ---- against the library ----

    @Test
    void fitMatchesTheLibraryApiForEveryOption() throws IOException {
        Shape full = Shape.nchw(11, 4, 3, 2);
        float[] x = randomInput(full, 1);
        Path input = dir.resolve("x.npy");
        write(input, x, 11, 4, 3, 2);
        Path stateIn = dir.resolve("s0.npz");
        try (BatchNorm start = BatchNorm.builder(4).build()) {
            start.setGamma(new float[] {1.5f, 0.5f, 2f, 1f});
            start.setBeta(new float[] {0.1f, -0.2f, 0.3f, 0f});
            start.setRunningMean(new float[] {1, 2, 3, 4});
            start.setNumBatchesTracked(5);
            start.save(stateIn);
        }
        record Option(String[] args, Consumer<BatchNormBuilder> builder, boolean fromState) {
        }
        List<Option> options = List.of(
                new Option(new String[] {}, b -> { }, false),
                new Option(new String[] {"--momentum", "0.3"}, b -> b.momentum(0.3), false),
                new Option(new String[] {"--decay", "0.8"}, b -> b.decay(0.8), false),
                new Option(new String[] {"--cumulative"}, BatchNormBuilder::cumulativeAverage, false),
                new Option(new String[] {"--running-var", "biased"},
                        b -> b.runningVariance(VarianceEstimator.BIASED), false),
                new Option(new String[] {"--decay", "0.9", "--bias-correction", "--eps", "1e-3"},
                        b -> b.decay(0.9).biasCorrection(true).eps(1e-3), false),
                new Option(new String[] {"--momentum", "0.2", "--state-in", stateIn.toString()}, b -> b.momentum(0.2),
                        true));
        for (Option option : options) {
            Path state = dir.resolve("s.npz"), y = dir.resolve("y.npy");
            List<String> args = new ArrayList<>(List.of("fit", "--input", input.toString(), "--layout", "NCHW",
                    "--batch-size", "3", "--state-out", state.toString(), "--output", y.toString()));
            args.addAll(List.of(option.args()));
            CliRun run = CliRun.of(args.toArray(String[]::new));
            String what = String.join(" ", option.args());
            assertEquals(0, run.exitCode(), what + ": " + run);

            BatchNormBuilder builder = BatchNorm.builder(4);
            option.builder().accept(builder);
            try (BatchNorm layer = builder.build(); BatchNorm fitted = BatchNorm.fromFile(state)) {
                if (option.fromState()) {
                    layer.load(stateIn);
                }
                float[] want = new float[x.length];
                int row = 4 * 3 * 2;
                for (int first = 0; first < 11; first += 3) {
                    int rows = Math.min(3, 11 - first);
                    layer.forwardTraining(Shape.nchw(rows, 4, 3, 2), x, first * row, want, first * row);
                }
                assertArrayEquals(want, read(y), what + ": outputs");
                assertArrayEquals(layer.runningMean(), fitted.runningMean(), what + ": running mean");
                assertArrayEquals(layer.runningVar(), fitted.runningVar(), what + ": running var");
                assertArrayEquals(layer.gamma(), fitted.gamma(), what + ": gamma");
                assertArrayEquals(layer.beta(), fitted.beta(), what + ": beta");
                assertEquals(layer.numBatchesTracked(), fitted.numBatchesTracked(), what + ": batches");
                assertEquals(layer.config().eps(), fitted.config().eps(), what + ": eps recorded");
            }
        }
    }

    @Test
    void applyUsesTheRecordedEpsUnlessTold() throws IOException {
        Path x = golden("x_nchw.npy"), state = dir.resolve("s.npz"), a = dir.resolve("a.npy"), b = dir.resolve("b.npy");
        assertEquals(0, CliRun.of("fit", "--input", x.toString(), "--layout", "NCHW", "--batch-size", "5", "--eps",
                "0.5", "--state-out", state.toString()).exitCode());
        assertEquals(0, CliRun.of("apply", "--input", x.toString(), "--layout", "NCHW", "--state", state.toString(),
                "--output", a.toString()).exitCode());
        assertEquals(0, CliRun.of("apply", "--input", x.toString(), "--layout", "NCHW", "--state", state.toString(),
                "--output", b.toString(), "--eps", "1e-5").exitCode());
        try (BatchNorm layer = BatchNorm.fromFile(state)) {
            float[] xs = read(x), want = new float[xs.length];
            layer.forwardInference(Shape.nchw(10, 3, 2, 3), xs, want);
            assertArrayEquals(want, read(a), "the recorded eps 0.5");
        }
        assertFalse(Arrays.equals(read(a), read(b)), "--eps 1e-5 overrides it");
    }

    // ---- errors ----

    @Test
    void badInputExitsWith2AndWritesNothing() throws IOException {
        Path good = golden("x_nchw.npy");
        Path state = dir.resolve("state.npz"), y = dir.resolve("y.npy");
        Files.writeString(y, "existing output");
        Path float64 = rawNpy("f64.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 48);
        Path fortran = rawNpy("fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24);
        Path truncated = rawNpy("short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20);
        Path junk = dir.resolve("junk.npy");
        Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        Path withNaN = dir.resolve("nan.npy");
        float[] values = read(good);
        values[7] = Float.NaN;
        write(withNaN, values, 10, 3, 2, 3);
        Path otherC = dir.resolve("c5.npz");
        try (BatchNorm five = BatchNorm.builder(5).build()) {
            five.save(otherC);
        }
        String[][] cases = {
            {"holds dtype '<f8' (float64)", "fit", "--input", float64.toString(), "--layout", "NC", "--batch-size", "2"},
            {"is in Fortran order", "fit", "--input", fortran.toString(), "--layout", "NC", "--batch-size", "2"},
            {"is truncated: shape (2, 3) needs", "fit", "--input", truncated.toString(), "--layout", "NC",
                "--batch-size", "2"},
            {"not a .npy file (bad magic bytes)", "fit", "--input", junk.toString(), "--layout", "NC", "--batch-size",
                "2"},
            {"no such file", "fit", "--input", dir.resolve("missing.npy").toString(), "--layout", "NC",
                "--batch-size", "2"},
            {"(rank 4) but layout NC needs rank 2 (N, C)", "fit", "--input", good.toString(), "--layout", "NC",
                "--batch-size", "2"},
            {"--batch-size must be at least 1", "fit", "--input", good.toString(), "--layout", "NCHW",
                "--batch-size", "0"},
            {"momentum must be", "fit", "--input", good.toString(), "--layout", "NCHW", "--batch-size", "4",
                "--momentum", "1.5"},
            {"mutually exclusive", "fit", "--input", good.toString(), "--layout", "NCHW", "--batch-size", "4",
                "--momentum", "0.1", "--decay", "0.9"},
            {"Invalid value for option '--layout'", "fit", "--input", good.toString(), "--layout", "NWHC",
                "--batch-size", "4"},
            {"not finite", "fit", "--input", withNaN.toString(), "--layout", "NCHW", "--batch-size", "4"},
            {"directory", "fit", "--input", good.toString(), "--layout", "NCHW", "--batch-size", "4", "--state-out",
                dir.resolve("no/such/dir/s.npz").toString()},
            {"C=5", "apply", "--input", good.toString(), "--layout", "NCHW", "--state", otherC.toString()},
            {"Missing required option", "apply", "--input", good.toString(), "--layout", "NCHW"},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of(c).subList(1, c.length));
            if (args.get(0).equals("fit") && !args.contains("--state-out")) {
                args.addAll(List.of("--state-out", state.toString(), "--output", y.toString()));
            } else if (args.get(0).equals("apply") && args.contains("--state")) {
                args.addAll(List.of("--output", y.toString()));
            }
            CliRun run = CliRun.of(args.toArray(String[]::new));
            assertBadInput(run, c[0]);
            assertFalse(Files.exists(state), c[0] + ": no state written");
            assertEquals("existing output", Files.readString(y), c[0] + ": existing output untouched");
            try (var files = Files.list(dir)) {
                assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), c[0] + ": no temp files");
            }
        }
    }

    @Test
    void aMalformedNpyHeaderExitsWith2WithOneLineNamingTheProblem() throws IOException {
        Path unclosed = rawNpy("unclosed.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", 24);
        Path y = dir.resolve("y.npy");
        CliRun run = CliRun.of("apply", "--input", unclosed.toString(), "--layout", "NC", "--state",
                golden("momentum_state.npz").toString(), "--output", y.toString());
        assertBadInput(run, "bn4j apply: " + unclosed + ": .npy header dict is not closed");
        assertEquals(1, run.err().strip().lines().count(), "one line: " + run.err());
        assertFalse(Files.exists(y), "no output written");
    }

    @Test
    void infoNamesTheBackendAndWhy() {
        CliRun info = CliRun.of("info");
        assertEquals(0, info.exitCode(), info.toString());
        assertTrue(info.out().startsWith("backend: cpu\nwhy:     ") || info.out().startsWith("backend: cuda\ndevice:  "),
                info.out());
        CliRun none = CliRun.of();
        assertEquals(2, none.exitCode(), none.toString());
        // Surefire starts the JVM with the Vector API module, so info must say it is in use.
        assertTrue(info.out().contains("\ncpu:     Vector API"), info.out());
    }

    // ---- helpers ----

    private static void assertBadInput(CliRun run, String fragment) {
        assertEquals(2, run.exitCode(), fragment + ": " + run);
        assertTrue(run.err().contains(fragment), "stderr names the problem (" + fragment + "): " + run.err());
        assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
    }

    private Path golden(String name) throws IOException {
        return golden(dir, name);
    }

    /** The golden file {@code name} (src/test/resources/golden/cli) copied into {@code dir}, once. */
    static Path golden(Path dir, String name) throws IOException {
        Path target = dir.resolve("golden-" + name);
        if (!Files.exists(target)) {
            try (InputStream in = CliTest.class.getResourceAsStream("/golden/cli/" + name)) {
                Files.copy(in, target);
            }
        }
        return target;
    }

    private BatchNorm pytorchState(String name, int channels) throws IOException {
        BatchNorm layer = BatchNorm.builder(channels).build();
        layer.load(golden(name));
        return layer;
    }

    private Path rawNpy(String name, String dict, int dataBytes) throws IOException {
        // Version 1: 10 bytes of preamble, then the dict padded so the data start at byte 128.
        String header = dict + " ".repeat(117 - dict.length()) + "\n";
        ByteBuffer bytes = ByteBuffer.allocate(10 + header.length() + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        bytes.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        bytes.putShort((short) header.length());
        bytes.put(header.getBytes(StandardCharsets.US_ASCII));
        Path path = dir.resolve(name);
        Files.write(path, bytes.array());
        return path;
    }

    static float[] read(Path file) throws IOException {
        try (NpyFloatReader reader = NpyFloatReader.open(file)) {
            float[] values = new float[(int) reader.elementCount()];
            reader.read(0, values, 0, values.length);
            return values;
        }
    }

    static long[] shapeOf(Path file) throws IOException {
        try (NpyFloatReader reader = NpyFloatReader.open(file)) {
            return reader.shape();
        }
    }

    static void write(Path file, float[] values, long... shape) throws IOException {
        try (NpyFloatWriter writer = NpyFloatWriter.create(file, shape)) {
            writer.write(values, 0, values.length);
            writer.commit();
        }
    }

    private static float[] randomInput(Shape shape, long seed) {
        Random random = new Random(seed);
        float[] x = new float[(int) shape.elementCount()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (3 + 2 * random.nextGaussian());
        }
        return x;
    }

    private static float[] nhwcToNchw(float[] nhwc, int n, int c, int h, int w) {
        float[] nchw = new float[nhwc.length];
        for (int i = 0; i < n; i++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int k = 0; k < c; k++) {
                        nchw[((i * c + k) * h + y) * w + x] = nhwc[((i * h + y) * w + x) * c + k];
                    }
                }
            }
        }
        return nchw;
    }

    private static void assertClose(String what, float[] want, float[] got, double tolerance) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            double allowed = tolerance * Math.max(1, Math.abs(want[i]));
            assertTrue(Math.abs(want[i] - got[i]) <= allowed, what + "[" + i + "]: want " + want[i] + ", got " + got[i]);
        }
    }
}

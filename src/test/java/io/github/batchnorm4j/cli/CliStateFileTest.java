package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.io.NpyFloatWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI half of the bad-input matrix for state files and outputs: a state file with a member
 * missing, of the wrong dtype, with negative or NaN variance, truncated, or not an archive; eps out
 * of range; an output that is a directory. Each exits with 2 and one line naming the problem, and
 * leaves the state file and any existing output byte for byte as they were.
 */
class CliStateFileTest {
    private static final int C = 3;

    @TempDir
    Path dir;

    @Test
    void badStateFilesAndOutputsExitWith2AndChangeNothing() throws IOException {
        Path x = dir.resolve("x.npy");
        try (NpyFloatWriter w = NpyFloatWriter.create(x, 4, C)) {
            w.write(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 0, 12);
            w.commit();
        }
        Path good = dir.resolve("good.npz");
        try (BatchNorm layer = BatchNorm.builder(C).build()) {
            layer.save(good);
        }
        Map<String, byte[]> members = unzip(good);
        Path missing = zip("missing.npz", members, "running_var.npy", null);
        Path float64 = zip("f64.npz", members, "running_var.npy", npy("'<f8'", "(3,)", new byte[24]));
        Path negative = zip("negative.npz", members, "running_var.npy", floats(1, -2, 1));
        Path nanVariance = zip("nan.npz", members, "running_var.npy", floats(1, Float.NaN, 1));
        Path nanWeight = zip("nanweight.npz", members, "weight.npy", floats(1, 1, Float.NaN));
        Path truncated = dir.resolve("truncated.npz");
        byte[] whole = Files.readAllBytes(good);
        Files.write(truncated, Arrays.copyOf(whole, whole.length / 2));
        Path junk = dir.resolve("junk.npz");
        Files.writeString(junk, "not a zip archive at all");
        Path y = dir.resolve("y.npy");
        Files.writeString(y, "existing output");
        Path aDirectory = Files.createDirectory(dir.resolve("a-directory.npy"));

        Object[][] cases = {
            {"missing member 'running_var'", List.of("apply", "--state", missing.toString())},
            {"member 'running_var' has dtype '<f8'", List.of("apply", "--state", float64.toString())},
            {"member 'running_var' holds -2.0 at channel 1", List.of("apply", "--state", negative.toString())},
            {"member 'running_var' holds NaN at channel 1", List.of("apply", "--state", nanVariance.toString())},
            {"member 'weight' holds NaN at channel 2", List.of("apply", "--state", nanWeight.toString())},
            {"truncated or corrupt", List.of("apply", "--state", truncated.toString())},
            {"not a readable .npz archive", List.of("apply", "--state", junk.toString())},
            {"eps must be a positive finite number", List.of("apply", "--state", good.toString(), "--eps", "0")},
            {"eps must be a positive finite number", List.of("apply", "--state", good.toString(), "--eps", "-1")},
            {"directory", List.of("apply", "--state", good.toString(), "--output-dir-case")},
            {"eps must be a positive finite number", List.of("fit", "--batch-size", "2", "--eps", "NaN")},
            {"batch of 1", List.of("fit", "--batch-size", "3")},
            {"directory", List.of("fit", "--batch-size", "2", "--state-out", aDirectory.toString())},
            {"not a regular file", List.of("fit", "--batch-size", "2", "--input-override", aDirectory.toString())},
            {"C=3", List.of("fit", "--batch-size", "2", "--state-in", dir.resolve("c5.npz").toString())},
        };
        try (BatchNorm five = BatchNorm.builder(5).build()) {
            five.save(dir.resolve("c5.npz"));
        }
        Map<Path, byte[]> files = snapshot();
        for (Object[] c : cases) {
            String expected = (String) c[0];
            @SuppressWarnings("unchecked")
            List<String> given = (List<String>) c[1];
            List<String> args = new java.util.ArrayList<>(given);
            int override = args.indexOf("--input-override");
            if (override >= 0) {
                args.remove(override);
                args.add(override, "--input");
            } else {
                args.addAll(List.of("--input", x.toString()));
            }
            args.addAll(List.of("--layout", "NC"));
            if (args.remove("--output-dir-case")) {
                args.addAll(List.of("--output", aDirectory.toString()));
            } else if (args.get(0).equals("apply")) {
                args.addAll(List.of("--output", y.toString()));
            } else if (!args.contains("--state-out")) {
                args.addAll(List.of("--state-out", dir.resolve("out.npz").toString(), "--output", y.toString()));
            }
            CliRun run = CliRun.of(args.toArray(String[]::new));
            assertEquals(2, run.exitCode(), expected + ": " + run);
            assertTrue(run.err().contains(expected), "stderr should name '" + expected + "': " + run.err());
            assertEquals(1, run.err().strip().lines().count(), "one line: " + run.err());
            Map<Path, byte[]> after = snapshot();
            assertEquals(files.keySet(), after.keySet(), expected + ": files created or removed");
            for (Path p : files.keySet()) {
                assertArrayEquals(files.get(p), after.get(p), expected + ": " + p + " changed");
            }
        }
    }

    private Map<Path, byte[]> snapshot() throws IOException {
        Map<Path, byte[]> files = new LinkedHashMap<>();
        try (var list = Files.list(dir)) {
            for (Path p : (Iterable<Path>) list.sorted()::iterator) {
                files.put(p, Files.isDirectory(p) ? new byte[0] : Files.readAllBytes(p));
            }
        }
        return files;
    }

    private static Map<String, byte[]> unzip(Path npz) throws IOException {
        Map<String, byte[]> members = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(npz))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                members.put(e.getName(), in.readAllBytes());
            }
        }
        return members;
    }

    /** A copy of {@code members} with {@code name} replaced by {@code bytes}, or left out when null. */
    private Path zip(String file, Map<String, byte[]> members, String name, byte[] bytes) throws IOException {
        assertTrue(members.containsKey(name), name + " in " + members.keySet());
        Path path = dir.resolve(file);
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(path))) {
            for (Map.Entry<String, byte[]> m : members.entrySet()) {
                byte[] content = m.getKey().equals(name) ? bytes : m.getValue();
                if (content != null) {
                    out.putNextEntry(new ZipEntry(m.getKey()));
                    out.write(content);
                    out.closeEntry();
                }
            }
        }
        return path;
    }

    private byte[] floats(float... values) throws IOException {
        Path tmp = dir.resolve("member.tmp.npy");
        try (NpyFloatWriter w = NpyFloatWriter.create(tmp, values.length)) {
            w.write(values, 0, values.length);
            w.commit();
        }
        byte[] bytes = Files.readAllBytes(tmp);
        Files.delete(tmp);
        return bytes;
    }

    /** A version 1 .npy: preamble, the dict padded so the data start at byte 128, then the data. */
    private static byte[] npy(String descr, String shape, byte[] data) throws IOException {
        String dict = "{'descr': " + descr + ", 'fortran_order': False, 'shape': " + shape + ", }";
        String header = dict + " ".repeat(117 - dict.length()) + "\n";
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) header.length(), 0});
        out.write(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.write(data);
        return out.toByteArray();
    }
}

package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.BatchNormRuntime;
import io.github.batchnorm4j.BatchNorm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bn4j bench on tiny shapes: the records carry the fields issue 5 lists and agree with each other,
 * the chart is a PNG, the peer gets our settings and its times reach the records, and its absence
 * is reported.
 * Timings themselves are not judged: they belong to benchmark runs, not to tests.
 */
class BenchCommandTest {
    private static final Pattern RECORD = Pattern.compile("\\{[^}]*\\}");

    @TempDir
    Path dir;

    @Test
    void recordsHoldEveryFieldAndAgree() throws IOException {
        Path json = dir.resolve("bench.json");
        Path png = dir.resolve("bench.png");
        CliRun run = CliRun.of("bench", "--backend", "cpu", "--quick", "--no-peer", "--shape", "NCHW:4x3x5x5",
                "--shape", "NHWC:2x3x3x5", "--shape", "NC:1x7/inference", "--json", json.toString(), "--png",
                png.toString());
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().contains("# peer: none: --no-peer"), run.out());
        List<String> records = records(json);
        assertEquals(7, records.size(), "3 ops on 2 shapes and inference on one: " + records);
        for (String r : records) {
            for (String field : new String[] {"op", "layout", "shape", "backend", "seconds", "gbps", "copy_gbps",
                    "passes"}) {
                assertTrue(r.contains("\"" + field + "\": "), field + " missing in " + r);
            }
            assertFalse(r.contains("\"peer\""), "no peer ran: " + r);
            assertEquals("cpu", text(r, "backend"));
            long elements = 1;
            for (String size : between(r, "\"shape\": [", "]").split(", ")) {
                elements *= Long.parseLong(size);
            }
            double seconds = number(r, "seconds");
            int passes = (int) number(r, "passes");
            assertEquals(text(r, "op").equals("backward") ? 3 : 2, passes, r);
            assertTrue(seconds > 0, r);
            assertEquals(passes * 4.0 * elements / seconds / 1e9, number(r, "gbps"), 1e-4 * number(r, "gbps"), r);
            assertEquals(number(r, "gbps") / number(r, "copy_gbps"), number(r, "copy_ratio"), 1e-3, r);
        }
        assertEquals("NC", text(records.get(6), "layout"));
        assertEquals("inference", text(records.get(6), "op"));
        if (ModuleLayer.boot().findModule("java.desktop").isEmpty()) { // the GPU bundle's minimal runtime
            assertTrue(run.out().contains("# chart not drawn: this Java runtime lacks java.desktop"), run.out());
            return;
        }
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head, "PNG signature");
    }

    @Test
    void aMissingPeerIsReportedAndTheFiguresStillCome() {
        CliRun run = CliRun.of("bench", "--backend", "cpu", "--quick", "--shape", "NC:8x4", "--peer-script",
                dir.resolve("absent.py").toString());
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().contains("# peer: none: peer script scripts/peer-torch.py not found at"), run.out());
        assertTrue(run.out().contains("NC 8x4") && run.out().contains("backward"), run.out());
    }

    /**
     * The peer's wiring, with a stand-in for Python that answers the torch probe and prints the
     * peer script's protocol: bn4j passes the device, our thread count and each case, and puts the
     * peer's times into the records. (The real script ran for the committed results.)
     */
    @Test
    void thePeerGetsOurThreadsAndItsTimesReachTheRecords() throws IOException {
        Path arguments = dir.resolve("peer-arguments.txt");
        Path python = fakePython(
                "echo \"$@\" >> '" + arguments + "'",
                "for spec; do :; done                   # the last argument",
                "label=$(echo \"${spec%/inference}\" | tr ':' ' ')",
                "echo '# PyTorch fake on cpu'",
                "case \"$spec\" in */inference) echo \"inference $label 0.25\" ;;",
                "  *) echo \"train_forward $label 0.5\"; echo \"inference $label 0.25\"; echo \"backward $label 0.75\" ;;",
                "esac");
        Path json = dir.resolve("peer.json");
        CliRun run = CliRun.of("bench", "--backend", "cpu", "--quick", "--shape", "NHWC:2x3x3x5", "--shape",
                "NCHW:1x4x2x2/inference", "--python", python.toString(), "--peer-script", python.toString(), "--json",
                json.toString());
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().contains("# peer: PyTorch fake on cpu"), run.out());
        List<String> records = records(json);
        assertEquals(4, records.size(), records.toString());
        double[] expected = {0.5, 0.25, 0.75, 0.25};
        for (int i = 0; i < records.size(); i++) {
            assertEquals("PyTorch fake on cpu", text(records.get(i), "peer"), records.get(i));
            assertEquals(expected[i], number(records.get(i), "peer_seconds"), 0, records.get(i));
        }
        List<String> calls = Files.readAllLines(arguments);
        String threads = "--threads " + io.github.batchnorm4j.BatchNormRuntime.cpuThreads();
        assertEquals(2, calls.size(), "one peer process per case: " + calls);
        assertTrue(calls.get(0).contains("--device cpu " + threads + " --quick NHWC:2x3x3x5"), calls.get(0));
        assertTrue(calls.get(1).endsWith("NCHW:1x4x2x2/inference"), calls.get(1));
    }

    /**
     * With --rounds 3, ours and the (stand-in) peer alternate three times per case; each record
     * holds the medians, and the JSON the fastest and slowest round of each side.
     */
    @Test
    void roundsAlternateOursWithThePeerAndReportMedians() throws IOException {
        Path counter = dir.resolve("calls");
        Path python = fakePython(
                "n=$(cat '" + counter + "' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '" + counter + "'",
                "for spec; do :; done",
                "label=$(echo \"$spec\" | tr ':' ' ')",
                "echo '# PyTorch fake on cpu'",
                "case $n in 1) t=0.5 ;; 2) t=0.9 ;; *) t=0.7 ;; esac",
                "echo \"train_forward $label $t\"; echo \"inference $label 0.25\"; echo \"backward $label 0.75\"");
        Path json = dir.resolve("rounds.json");
        CliRun run = CliRun.of("bench", "--backend", "cpu", "--quick", "--rounds", "3", "--shape", "NC:16x5",
                "--python", python.toString(), "--peer-script", python.toString(), "--json", json.toString());
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().contains("each figure the median of 3 rounds"), run.out());
        assertEquals("3", Files.readString(counter).strip(), "the peer ran once per round");
        List<String> records = records(json);
        assertEquals(3, records.size(), records.toString());
        String train = records.get(0);
        assertEquals("train_forward", text(train, "op"));
        assertEquals(3, number(train, "rounds"), train);
        assertEquals(0.7, number(train, "peer_seconds"), 0, train);
        assertEquals(0.5, number(train, "peer_seconds_min"), 0, train);
        assertEquals(0.9, number(train, "peer_seconds_max"), 0, train);
        for (String r : records) {
            double seconds = number(r, "seconds");
            assertTrue(number(r, "seconds_min") <= seconds && seconds <= number(r, "seconds_max"), r);
        }
        assertEquals(0.25, number(records.get(1), "peer_seconds_max"), 0, records.get(1));
    }

    @Test
    void roundsOutOfRangeAreRefused() {
        CliRun run = CliRun.of("bench", "--no-peer", "--rounds", "0", "--shape", "NC:8x4");
        assertEquals(2, run.exitCode(), run.toString());
        assertTrue(run.err().contains("--rounds must be 1 to 20, got 0"), run.err());
    }

    @Test
    void aBadShapeIsRefusedWithItsName() {
        CliRun run = CliRun.of("bench", "--no-peer", "--shape", "NCHW:4x3x5");
        assertEquals(2, run.exitCode(), run.toString());
        assertTrue(run.err().contains("--shape 'NCHW:4x3x5'"), run.err());
        CliRun single = CliRun.of("bench", "--no-peer", "--shape", "NC:1x16");
        assertEquals(2, single.exitCode(), single.toString());
        assertTrue(single.err().contains("add /inference"), single.err());
    }

    /**
     * A stand-in for Python that answers the 'import torch' probe and otherwise runs {@code body}
     * (shell lines), which prints the peer script's protocol.
     */
    private Path fakePython(String... body) throws IOException {
        Path python = dir.resolve("fake-python");
        List<String> lines = new ArrayList<>(List.of("#!/bin/sh", "if [ \"$1\" = -c ]; then exit 0; fi"));
        lines.addAll(List.of(body));
        Files.writeString(python, String.join("\n", lines) + "\n");
        assertTrue(python.toFile().setExecutable(true));
        return python;
    }

    private static List<String> records(Path json) throws IOException {
        String text = Files.readString(json).strip();
        assertTrue(text.startsWith("[") && text.endsWith("]"), "a JSON list: " + text);
        List<String> records = new ArrayList<>();
        Matcher m = RECORD.matcher(text);
        while (m.find()) {
            records.add(m.group());
        }
        return records;
    }

    private static String between(String s, String open, String close) {
        int a = s.indexOf(open) + open.length();
        return s.substring(a, s.indexOf(close, a));
    }

    private static String text(String record, String field) {
        return between(record, "\"" + field + "\": \"", "\"");
    }

    private static double number(String record, String field) {
        Matcher m = Pattern.compile("\"" + field + "\": ([-0-9.eE+]+)").matcher(record);
        assertTrue(m.find(), field + " in " + record);
        return Double.parseDouble(m.group(1));
    }
}

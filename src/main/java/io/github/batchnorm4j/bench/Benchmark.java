package io.github.batchnorm4j.bench;

import io.github.batchnorm4j.BatchNormRuntime;
import io.github.batchnorm4j.BatchNorm;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code bn4j bench}: times each case on the chosen backend beside that device's copy ceiling,
 * runs the PyTorch peer on the same case right after (never at the same time: they would share the
 * cores), prints a table row per figure and returns the records. With several rounds, ours and the
 * peer alternate that many times per case and each figure is the median of its rounds: on a shared
 * machine one round of either side can be off by 2x.
 */
public final class Benchmark {
    /** How to run: the backend ("cpu" or "cuda"), quick timing, where the peer is, rounds per case. */
    public record Options(String backend, boolean quick, boolean peer, Path peerScript, String python, int rounds) {
    }

    private Benchmark() {
    }

    public static List<BenchRecord> run(Options options, List<BenchCase> cases, PrintWriter out) {
        List<BenchRecord> records = new ArrayList<>();
        try (BackendBench bench = options.backend().equals("cuda") ? new CudaBench(options.quick())
                : new CpuBench(options.quick())) {
            out.println("# batchnorm4j bench, " + bench.description());
            out.println("# java " + System.getProperty("java.version") + ", " + Runtime.getRuntime().availableProcessors()
                    + " cores, " + System.getProperty("os.arch") + "; each time the median of "
                    + (options.quick() ? "5" : "15") + " samples after warm-up"
                    + (options.rounds() > 1 ? "; each figure the median of " + options.rounds()
                            + " rounds, ours and the peer alternating" : ""));
            TorchPeer peer = null;
            if (options.peer()) {
                try {
                    peer = TorchPeer.find(options.peerScript(), options.python(), bench.name(), BatchNormRuntime.cpuThreads(),
                            options.quick());
                } catch (TorchPeer.Unavailable e) {
                    out.println("# peer: none: " + e.getMessage());
                }
            } else {
                out.println("# peer: none: --no-peer");
            }
            out.println(BenchTable.header());
            out.flush();
            List<String> failures = new ArrayList<>();
            for (BenchCase benchCase : cases) {
                String why = bench.whyNot(benchCase);
                if (why != null) {
                    out.println(String.format("%-22s skipped: %s", benchCase.label(), why));
                    out.flush();
                    continue;
                }
                List<List<BenchRecord>> ours = new ArrayList<>();
                List<Map<BenchOp, Double>> peerTimes = new ArrayList<>();
                for (int round = 0; round < options.rounds(); round++) {
                    ours.add(bench.run(benchCase));
                    peerTimes.add(peer == null ? Map.of() : peer.time(benchCase, failures));
                }
                for (int i = 0; i < ours.get(0).size(); i++) {
                    int op = i;
                    List<BenchRecord> rounds = ours.stream().map(r -> r.get(op)).toList();
                    BenchOp which = rounds.get(0).op();
                    double[] peerSeconds = peerTimes.stream()
                            .mapToDouble(m -> m.getOrDefault(which, Double.NaN)).toArray();
                    BenchRecord full = BenchRecord.ofRounds(rounds, peer == null ? null : peer.name(), peerSeconds);
                    records.add(full);
                    out.println(BenchTable.row(full));
                }
                out.flush();
            }
            if (peer != null) {
                out.println("# peer: " + peer.name());
            }
            for (String failure : failures) {
                out.println("# peer failed: " + failure);
            }
        }
        out.flush();
        return records;
    }

    /** The records as a JSON list, one object per line. */
    public static void writeJson(List<BenchRecord> records, Path file) throws IOException {
        StringBuilder s = new StringBuilder("[\n");
        for (int i = 0; i < records.size(); i++) {
            s.append("  ").append(records.get(i).toJson()).append(i + 1 < records.size() ? ",\n" : "\n");
        }
        Files.writeString(file, s.append("]\n"), StandardCharsets.UTF_8);
    }

    /** The PNG chart of the records: GB/s per shape for us, the peer and the copy ceiling. */
    public static void writeChart(List<BenchRecord> records, String title, Path png) throws IOException {
        BenchChart.write(records, title, png);
    }
}

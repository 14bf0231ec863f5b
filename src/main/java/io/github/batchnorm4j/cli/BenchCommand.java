package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.bench.BenchCase;
import io.github.batchnorm4j.bench.BenchRecord;
import io.github.batchnorm4j.bench.Benchmark;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bn4j bench}: the performance figures of issue 5, beside the copy ceiling and PyTorch. */
@Command(name = "bench", description = {
        "Time training forward, inference and backward on named shapes: median seconds, GB/s at the",
        "memory floor's pass count, the ratio to this device's copy bandwidth measured in the same run,",
        "and PyTorch's time on the same shapes (scripts/peer-torch.py) when a Python with torch is found."})
final class BenchCommand implements Callable<Integer> {
    @Mixin
    BackendOption backend;

    @Option(names = "--quick", description = "one shape of each kind and shorter timing (about a minute)")
    boolean quick;

    @Option(names = "--json", paramLabel = "FILE", description = "write the records as a JSON list")
    Path json;

    @Option(names = "--png", paramLabel = "FILE", description = "draw GB/s per shape (ours, peer, copy) as a PNG chart")
    Path png;

    @Option(names = "--shape", paramLabel = "LAYOUT:SIZES",
            description = "time these shapes instead of the named ones, e.g. NCHW:8x16x32x32 or NC:1x1024/inference")
    List<String> shapes;

    @Option(names = "--no-peer", description = "do not run PyTorch")
    boolean noPeer;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "1",
            description = "time each case N times, ours and the peer alternating, and report the medians "
                    + "(the JSON keeps each side's fastest and slowest round; default 1, at most 20)")
    int rounds;

    @Option(names = "--peer-script", paramLabel = "FILE", description = "the peer script (default: scripts/peer-torch.py)")
    Path peerScript;

    @Option(names = "--python", paramLabel = "EXE", description = "the Python that runs the peer (default: python3 or /usr/bin/python3 with torch)")
    String python;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        backend.apply();
        if (rounds < 1 || rounds > 20) {
            throw new ParameterException(spec.commandLine(), "--rounds must be 1 to 20, got " + rounds);
        }
        List<BenchCase> cases = shapes == null ? (quick ? BenchCase.quick() : BenchCase.standard()) : parse(shapes);
        String chosen;
        try (BatchNorm probe = BatchNorm.builder(1).build()) {
            chosen = probe.backendName();
        }
        PrintWriter out = spec.commandLine().getOut();
        List<BenchRecord> records = Benchmark.run(
                new Benchmark.Options(chosen, quick, !noPeer, peerScript, python, rounds), cases, out);
        if (json != null) {
            Benchmark.writeJson(records, json);
            out.println("# records written to " + json);
        }
        if (png != null) {
            if (records.isEmpty()) {
                out.println("# no figures, so no chart");
            } else {
                try {
                    Benchmark.writeChart(records, "batchnorm4j on " + chosen, png);
                    out.println("# chart written to " + png);
                } catch (LinkageError e) { // a runtime without java.desktop (a minimal jlink image)
                    out.println("# chart not drawn: this Java runtime lacks java.desktop (" + e + "); the table and "
                            + "JSON are complete");
                }
            }
        }
        out.flush();
        return 0;
    }

    private List<BenchCase> parse(List<String> specs) {
        List<BenchCase> cases = new ArrayList<>();
        for (String text : specs) {
            cases.add(parseOne(text));
        }
        return cases;
    }

    private BenchCase parseOne(String text) {
        try {
            return BenchCase.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--shape '" + text + "': " + e.getMessage()
                    + " (examples: NCHW:8x16x32x32, NHWC:8x32x32x16, NC:256x4096, NC:1x1024/inference)");
        }
    }
}

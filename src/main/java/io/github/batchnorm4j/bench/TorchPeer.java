package io.github.batchnorm4j.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * PyTorch's batch norm as the peer, run by scripts/peer-torch.py in a Python that has torch, one
 * process per case (a case too big for the peer then costs only its own figures).
 */
final class TorchPeer {
    private static final long CASE_TIMEOUT_SECONDS = 900;

    private final String python;
    private final Path script;
    private final List<String> options;
    private String name;

    private TorchPeer(String python, Path script, List<String> options) {
        this.python = python;
        this.script = script;
        this.options = options;
    }

    /** Why there is no peer: no script found, or no Python with torch. */
    static final class Unavailable extends Exception {
        Unavailable(String reason) {
            super(reason);
        }
    }

    /**
     * The peer, found from the options or the defaults.
     *
     * @param device  "cpu" or "cuda"
     * @param threads CPU threads PyTorch may use (the same as ours)
     */
    static TorchPeer find(Path scriptOption, String pythonOption, String device, int threads, boolean quick)
            throws Unavailable {
        Path script = scriptOption != null ? scriptOption : locateScript();
        if (script == null || !Files.isRegularFile(script)) {
            throw new Unavailable("peer script scripts/peer-torch.py not found" + (script == null ? "" : " at " + script)
                    + " (run from the project folder or pass --peer-script)");
        }
        List<String> pythons = pythonOption != null ? List.of(pythonOption) : List.of("python3", "/usr/bin/python3");
        for (String candidate : pythons) {
            if (hasTorch(candidate)) {
                List<String> options = new ArrayList<>(List.of("--device", device, "--threads", Integer.toString(threads)));
                if (quick) {
                    options.add("--quick");
                }
                return new TorchPeer(candidate, script, options);
            }
        }
        throw new Unavailable("no Python with PyTorch found (tried " + String.join(", ", pythons)
                + "; on Debian: apt-get install python3-torch)");
    }

    private static Path locateScript() {
        Path here = Path.of("scripts", "peer-torch.py");
        if (Files.isRegularFile(here)) {
            return here.toAbsolutePath();
        }
        try {
            Path jar = Path.of(TorchPeer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path besideJar = jar.getParent().resolveSibling("scripts").resolve("peer-torch.py"); // target/../scripts
            return Files.isRegularFile(besideJar) ? besideJar : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static boolean hasTorch(String python) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The peer's name as reported by the script, e.g. "PyTorch 1.13.0a0 on cpu, 2 CPU threads". */
    String name() {
        return name != null ? name : "PyTorch";
    }

    /**
     * Median seconds per op for one case; a case the peer failed on gives an empty map and its
     * reason in {@code failures}.
     */
    Map<BenchOp, Double> time(BenchCase benchCase, List<String> failures) {
        List<String> command = new ArrayList<>(List.of(python, script.toString()));
        command.addAll(options);
        command.add(benchCase.peerSpec());
        Map<BenchOp, Double> times = new HashMap<>();
        StringBuilder other = new StringBuilder();
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.startsWith("# ")) {
                        name = line.substring(2).trim();
                        continue;
                    }
                    String[] f = line.trim().split(" ");
                    if (f.length == 4 && (f[1] + " " + f[2]).equals(benchCase.label())) {
                        times.put(BenchOp.ofKey(f[0]), Double.parseDouble(f[3]));
                    } else if (!line.isBlank()) {
                        other.append(line).append('\n');
                    }
                }
            }
            if (!p.waitFor(CASE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                failures.add(benchCase.label() + ": peer timed out");
            } else if (p.exitValue() != 0) {
                failures.add(benchCase.label() + ": peer exited with " + p.exitValue() + ": " + lastLine(other));
                times.clear();
            }
        } catch (IOException e) {
            failures.add(benchCase.label() + ": peer could not run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.add(benchCase.label() + ": interrupted");
        }
        return times;
    }

    private static String lastLine(CharSequence text) {
        String[] lines = text.toString().strip().split("\n");
        return lines[lines.length - 1];
    }
}

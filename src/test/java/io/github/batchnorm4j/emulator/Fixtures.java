package io.github.batchnorm4j.emulator;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** Test helper: the PTX of the test fixtures and of the shipped modules, parsed once per JVM. */
final class Fixtures {
    static final String[] SHIPPED = {"batch_norm_statistics", "batch_norm_normalize", "batch_norm_backward"};
    private static final Map<String, PtxModule> MODULES = new HashMap<>();

    private Fixtures() {
    }

    /** The text of {@code name}.ptx next to the emulator tests. */
    static String fixtureText(String name) {
        return read("/io/github/batchnorm4j/emulator/" + name + ".ptx");
    }

    /** The text of a shipped module, {@code name}.ptx in the library's CUDA resources. */
    static String shippedText(String name) {
        return read("/io/github/batchnorm4j/cuda/" + name + ".ptx");
    }

    static synchronized PtxModule fixture(String name) {
        return MODULES.computeIfAbsent("fixture:" + name, n -> PtxModule.parse(fixtureText(name)));
    }

    static synchronized PtxModule shipped(String name) {
        return MODULES.computeIfAbsent("shipped:" + name, n -> PtxModule.parse(shippedText(name)));
    }

    static PtxKernel kernel(PtxModule module, String name) {
        PtxKernel kernel = module.kernel(name);
        if (kernel == null) {
            throw new IllegalArgumentException("no kernel " + name);
        }
        return kernel;
    }

    private static String read(String resource) {
        try (InputStream in = Fixtures.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("missing resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] dim(int x) {
        return new int[] {x, 1, 1};
    }

    static int[] dim(int x, int y) {
        return new int[] {x, y, 1};
    }
}

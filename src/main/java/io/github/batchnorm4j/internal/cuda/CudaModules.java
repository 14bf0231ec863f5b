package io.github.batchnorm4j.internal.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The PTX modules shipped in the jar, one per operation (built from {@code cuda/*.cu} by
 * scripts/build-ptx); {@link Kernel} says which kernels each one exports. Plain Java: reading
 * the PTX touches no JCuda class.
 */
enum CudaModules {
    STATISTICS("batch_norm_statistics"),
    NORMALIZE("batch_norm_normalize"),
    BACKWARD("batch_norm_backward");

    /** The lowest PTX ISA the kernels need (sm_75 appeared in 6.3); scripts/build-ptx writes it. */
    static final String PTX_VERSION = "6.3";

    private final String fileName;

    CudaModules(String fileName) {
        this.fileName = fileName;
    }

    String resource() {
        return "/io/github/batchnorm4j/cuda/" + fileName + ".ptx";
    }

    /** The kernels of {@link Kernel}'s table that this module must export. */
    List<Kernel> kernels() {
        List<Kernel> kernels = new ArrayList<>();
        for (Kernel kernel : Kernel.values()) {
            if (kernel.module() == this) {
                kernels.add(kernel);
            }
        }
        return kernels;
    }

    /** The PTX text, NUL-terminated as the CUDA driver and PTX compiler expect. */
    byte[] ptx() {
        try (InputStream in = CudaModules.class.getResourceAsStream(resource())) {
            if (in == null) {
                throw new IllegalStateException("PTX resource " + resource() + " is missing from the jar");
            }
            byte[] text = in.readAllBytes();
            byte[] terminated = new byte[text.length + 1];
            System.arraycopy(text, 0, terminated, 0, text.length);
            return terminated;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource(), e);
        }
    }

    String ptxText() {
        byte[] bytes = ptx();
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.US_ASCII);
    }
}

package io.github.batchnorm4j.internal.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The PTX modules shipped in the jar (built from {@code cuda/*.cu} by scripts/build-ptx) and the
 * kernels each one must export. Plain Java: reading the PTX touches no JCuda class.
 */
enum CudaModules {
    STATISTICS("batch_norm_statistics", List.of("bn_stats_nchw", "bn_stats_channels_last")),
    RUNNING_PARAMS("batch_norm_running_params", List.of("bn_running_params")),
    NORMALIZE("batch_norm_normalize", List.of("bn_normalize_nchw", "bn_normalize_channels_last")),
    BACKWARD("batch_norm_backward", List.of("bn_grad_sums_nchw", "bn_grad_sums_channels_last", "bn_grad_finalize",
            "bn_grad_apply_nchw", "bn_grad_apply_channels_last"));

    /** The lowest PTX ISA the kernels need (sm_75 appeared in 6.3); scripts/build-ptx writes it. */
    static final String PTX_VERSION = "6.3";

    private final String fileName;
    private final List<String> kernels;

    CudaModules(String fileName, List<String> kernels) {
        this.fileName = fileName;
        this.kernels = kernels;
    }

    String resource() {
        return "/io/github/batchnorm4j/cuda/" + fileName + ".ptx";
    }

    List<String> kernels() {
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

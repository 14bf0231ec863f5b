package io.github.batchnorm4j.internal.cuda;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The table of kernels the host code launches: each kernel's name, the PTX module that holds it,
 * and its parameters in order, written as in its {@code extern "C"} signature in {@code cuda/}.
 * {@link KernelCall} builds every launch from this table, and {@code KernelTableTest} checks it
 * against every {@code .entry} of the shipped PTX (count, order, type), so a parameter swapped on
 * either side fails in CI, not on a GPU.
 */
enum Kernel {
    BN_STATISTICS_NCHW("bn_statistics_nchw", CudaModules.STATISTICS,
            "const float* x, long long channels, long long spatial, long long per_channel, long long per_block, "
            + "float* partial_count, float* partial_mean, float* partial_m2, " + Signatures.FINISH),
    BN_STATISTICS_CHANNELS_LAST("bn_statistics_channels_last", CudaModules.STATISTICS,
            "const float* x, long long rows, long long channels, long long rows_per_block, "
            + "float* partial_count, float* partial_mean, float* partial_m2, " + Signatures.FINISH),
    BN_NORMALIZE_NCHW("bn_normalize_nchw", CudaModules.NORMALIZE,
            "const float* x, float* y, long long runs, long long channels, long long spatial, "
            + "const float4* params, int vector, long long spatial_multiplier, int spatial_log, "
            + "long long channels_multiplier, int channels_log, " + Signatures.RUNNING),
    BN_NORMALIZE_CHANNELS_LAST("bn_normalize_channels_last", CudaModules.NORMALIZE,
            "const float* x, float* y, long long total, long long channels, const float* params, int vector, "
            + "long long channels_multiplier, int channels_log, " + Signatures.RUNNING),
    BN_BACKWARD_SUMS_NCHW("bn_backward_sums_nchw", CudaModules.BACKWARD,
            "const float* x, const float* dy, long long channels, long long spatial, long long per_channel, "
            + "long long per_block, " + Signatures.GRADIENTS),
    BN_BACKWARD_SUMS_CHANNELS_LAST("bn_backward_sums_channels_last", CudaModules.BACKWARD,
            "const float* x, const float* dy, long long rows, long long channels, long long rows_per_block, "
            + Signatures.GRADIENTS),
    BN_BACKWARD_APPLY_NCHW("bn_backward_apply_nchw", CudaModules.BACKWARD,
            "const float* x, const float* dy, float* dx, long long runs, long long channels, long long spatial, "
            + "const float4* params, const float4* coefficients, int vector, long long spatial_multiplier, "
            + "int spatial_log, long long channels_multiplier, int channels_log, " + Signatures.COMMIT_GRADIENTS),
    BN_BACKWARD_APPLY_CHANNELS_LAST("bn_backward_apply_channels_last", CudaModules.BACKWARD,
            "const float* x, const float* dy, float* dx, long long total, long long channels, "
            + "const float* params, const float4* coefficients, long long channels_multiplier, int channels_log, "
            + Signatures.COMMIT_GRADIENTS);

    /** The kind of one kernel parameter, as the launch fills it and as PTX declares it. */
    public enum Parameter {
        /** A device pointer: {@code .u64} in PTX, converted to a global address in the kernel. */
        POINTER,
        /** {@code int}: {@code .u32} or {@code .s32}. */
        INT,
        /** {@code long long}: {@code .u64} or {@code .s64}, never used as an address. */
        LONG,
        /** {@code double}: {@code .f64}. */
        DOUBLE
    }

    private final String symbol;
    private final CudaModules module;
    private final List<Parameter> parameters;
    private final List<String> parameterNames;

    Kernel(String symbol, CudaModules module, String signature) {
        this.symbol = symbol;
        this.module = module;
        List<Parameter> kinds = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String declaration : signature.split(",")) {
            String text = declaration.trim();
            int space = text.lastIndexOf(' ');
            String type = text.substring(0, space).trim();
            names.add(text.substring(space + 1));
            kinds.add(type.endsWith("*") ? Parameter.POINTER
                    : type.equals("long long") ? Parameter.LONG
                    : type.equals("int") ? Parameter.INT
                    : type.equals("double") ? Parameter.DOUBLE
                    : unknown(symbol, text));
        }
        this.parameters = Collections.unmodifiableList(kinds);
        this.parameterNames = Collections.unmodifiableList(names);
    }

    private static Parameter unknown(String symbol, String declaration) {
        throw new IllegalArgumentException(symbol + ": parameter type of '" + declaration + "' is not in the table's "
                + "vocabulary (pointer, long long, int, double)");
    }

    /** The kernel's symbol in the PTX, such as {@code bn_statistics_nchw}. */
    public String symbol() {
        return symbol;
    }

    public CudaModules module() {
        return module;
    }

    /** Parameter kinds in order. */
    public List<Parameter> parameters() {
        return parameters;
    }

    /** Parameter names in order, as in the CUDA source (for messages). */
    public List<String> parameterNames() {
        return parameterNames;
    }

    /** Parameter lists several kernels share. */
    private static final class Signatures {
        /** The statistics kernels' finishing step (finalize_statistics.cuh). */
        static final String FINISH = "double eps, const float* gamma, const float* beta, int update, "
                + "int weight_mode, double momentum, double decay, double variance_scale, int renorm, double renorm_rmax, "
                + "double renorm_dmax, const float* running_mean, "
                + "const float* running_var, float* params, double* scratch, long long* counters, long long* failure, "
                + "unsigned int* blocks_done";
        /** The normalize kernels' inference source (batch_norm_normalize.cu). */
        static final String RUNNING = "int from_running, const float* running_mean, const float* running_invstd, "
                + "const float* gamma, const float* beta, int commit, int update, const double* scratch, "
                + "double* saved_mean, float* saved_invstd, float* commit_running_mean, float* running_var, "
                + "float* commit_running_invstd, long long* counters, int renorm, float* saved_renorm";
        /** The apply kernels' commit of the gradients (layer_record.cuh). */
        static final String COMMIT_GRADIENTS = "int commit, const float* scratch, float* gamma_grad, "
                + "float* beta_grad, const long long* counters";
        /** The gradient-sum kernels' statistics and finishing step (finalize_backward.cuh). */
        static final String GRADIENTS = "int reduce, int batch_terms, int from_running, int affine, int renorm, "
                + "const double* saved_mean, const float* running_mean, const float* invstd, const float* saved_renorm, "
                + "const float* gamma, double* partial_dy, double* partial_dyx, "
                + "float* params, float4* coefficients, float* scratch, long long* counters, "
                + "long long* failure, unsigned int* blocks_done";
    }
}

package io.github.batchnorm4j;

/**
 * Which variance of the batch feeds the running variance. Normalization during training always
 * uses the biased (1/m) batch variance; this only chooses what is averaged for test time.
 */
public enum VarianceEstimator {
    /** var_B * m / (m - 1): PyTorch, cuDNN, Caffe. The default. */
    UNBIASED,
    /** var_B (1/m): DL4J's CPU path, Keras's plain path. */
    BIASED
}

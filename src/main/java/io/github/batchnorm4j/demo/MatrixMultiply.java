package io.github.batchnorm4j.demo;

/**
 * {@code C = op(A) * op(B)} (or {@code C += ...}) on row-major float matrices, where op(A) is
 * m x k, op(B) is k x n and C is m x n; {@code transposeA} means A is stored k x m.
 * The demo's linear layers run on this: cuBLAS on a GPU, plain Java otherwise.
 */
interface MatrixMultiply extends AutoCloseable {
    void multiply(boolean transposeA, boolean transposeB, int m, int n, int k, float[] a, float[] b, float[] c,
            boolean accumulate);

    /** One line for the report, such as {@code cuBLAS sgemm} or why the plain Java path runs. */
    String description();

    @Override
    void close();
}

package io.github.batchnorm4j.demo;

/**
 * {@link MatrixMultiply} in plain Java: the i-p-j loop order walks B and C by rows, which keeps
 * the inner loop sequential in memory for every combination of transposes the demo uses.
 */
final class JavaMatrixMultiply implements MatrixMultiply {
    private final String description;

    JavaMatrixMultiply(String description) {
        this.description = description;
    }

    @Override
    public void multiply(boolean transposeA, boolean transposeB, int m, int n, int k, float[] a, float[] b,
            float[] c, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(c, 0, m * n, 0f);
        }
        for (int i = 0; i < m; i++) {
            int row = i * n;
            for (int p = 0; p < k; p++) {
                float aip = transposeA ? a[p * m + i] : a[i * k + p];
                if (aip == 0f) {
                    continue; // ReLU outputs are half zeros
                }
                if (transposeB) {
                    for (int j = 0; j < n; j++) {
                        c[row + j] += aip * b[j * k + p];
                    }
                } else {
                    int bRow = p * n;
                    for (int j = 0; j < n; j++) {
                        c[row + j] += aip * b[bRow + j];
                    }
                }
            }
        }
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void close() {
    }
}

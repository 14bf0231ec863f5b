package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.fail;

/** Element-wise comparison with |got - want| <= abs + rel * |want|; a failure names the elements. */
final class Tolerance {
    /** Normalized outputs are O(1): float32 rounding of a few operations. */
    static final double OUTPUT_ABS = 2e-5;
    static final double OUTPUT_REL = 2e-5;
    /** Statistics accumulate in fp64 and round once to float. */
    static final double STATS_REL = 1e-6;

    private Tolerance() {
    }

    static void assertClose(String what, double[] want, float[] got, double abs, double rel) {
        if (want.length != got.length) {
            fail(what + ": length " + got.length + ", expected " + want.length);
        }
        StringBuilder failures = new StringBuilder();
        int count = 0;
        for (int i = 0; i < want.length; i++) {
            double error = Math.abs(got[i] - want[i]);
            if (!(error <= abs + rel * Math.abs(want[i]))) {
                if (count++ < 5) {
                    failures.append(String.format("%n  [%d] got %.9g, want %.9g (error %.3g)", i, got[i], want[i], error));
                }
            }
        }
        if (count > 0) {
            fail(what + ": " + count + " of " + want.length + " elements out of tolerance (abs " + abs + ", rel "
                    + rel + ")" + failures);
        }
    }

    static void assertClose(String what, float[] want, float[] got, double abs, double rel) {
        double[] wide = new double[want.length];
        for (int i = 0; i < want.length; i++) {
            wide[i] = want[i];
        }
        assertClose(what, wide, got, abs, rel);
    }
}

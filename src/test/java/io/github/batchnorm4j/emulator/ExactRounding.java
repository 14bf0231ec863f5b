package io.github.batchnorm4j.emulator;

import java.math.BigDecimal;
import java.math.MathContext;

/**
 * Test oracle for directed rounding, independent of the interpreter's: from an exact (or 1200-digit, beyond any double's exact expansion)
 * value, the float or double a mode gives, chosen among the neighbours of the round-to-nearest
 * result by exact comparison. Infinite candidates compare beyond every finite value, so overflow rounds as IEEE says.
 */
final class ExactRounding {
    static final MathContext WIDE = new MathContext(1200);

    enum Mode { DOWN, UP, TOWARD_ZERO }

    private ExactRounding() {
    }

    static float toFloat(BigDecimal exact, Mode mode) {
        float rn = exact.floatValue();
        float[] candidates = {Math.nextDown(Math.nextDown(rn)), Math.nextDown(rn), rn, Math.nextUp(rn),
            Math.nextUp(Math.nextUp(rn))};
        boolean down = mode == Mode.DOWN || mode == Mode.TOWARD_ZERO && exact.signum() >= 0;
        float best = Float.NaN;
        for (float c : candidates) {
            if (c != c) {
                continue;
            }
            int cmp = Float.isInfinite(c) ? (c > 0 ? 1 : -1) : new BigDecimal(c).compareTo(exact);
            if (down ? cmp <= 0 && (best != best || c > best) : cmp >= 0 && (best != best || c < best)) {
                best = c;
            }
        }
        return best;
    }

    static double toDouble(BigDecimal exact, Mode mode) {
        double rn = exact.doubleValue();
        double[] candidates = {Math.nextDown(Math.nextDown(rn)), Math.nextDown(rn), rn, Math.nextUp(rn),
            Math.nextUp(Math.nextUp(rn))};
        boolean down = mode == Mode.DOWN || mode == Mode.TOWARD_ZERO && exact.signum() >= 0;
        double best = Double.NaN;
        for (double c : candidates) {
            if (c != c) {
                continue;
            }
            int cmp = Double.isInfinite(c) ? (c > 0 ? 1 : -1) : new BigDecimal(c).compareTo(exact);
            if (down ? cmp <= 0 && (best != best || c > best) : cmp >= 0 && (best != best || c < best)) {
                best = c;
            }
        }
        return best;
    }

    static BigDecimal of(double v) {
        return new BigDecimal(v);
    }

    static BigDecimal quotient(double x, double y) {
        return of(x).divide(of(y), WIDE);
    }

    static BigDecimal root(double x) {
        return of(x).sqrt(WIDE);
    }
}

package io.github.batchnorm4j.internal.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Vector API code and its scalar twins: the sums bitwise equal on awkward lengths and offsets
 * and within float rounding of fp64; the element-wise passes bitwise equal.
 */
class RunSumsTest {
    private static final int[] LENGTHS = {0, 1, 7, 15, 16, 17, 64, 65, 1023, 1024, 1025, 1039, 3136, 8191, 65537};

    @Test
    void testsRunTheVectorPath() {
        // pom.xml gives surefire --add-modules jdk.incubator.vector; without it the twin test below
        // would compare the scalar code with itself.
        assertTrue(RunSums.VECTOR, "the Vector API is not in use: " + RunSums.describe());
    }

    @Test
    void shiftedSumsAreBitwiseEqualAndCloseToFp64() {
        Random random = new Random(31);
        for (int length : LENGTHS) {
            for (double mean : new double[] {0, 3, -1e3, 1e4}) {
                int runs = 1 + random.nextInt(7);
                int stride = length + random.nextInt(20);
                float[] x = values(random, runs * stride + 9, mean, 2);
                int from = random.nextInt(9);
                float k = x[from];
                double[] vs = {0.5}, vq = {0.25}, ss = {0.5}, sq = {0.25};
                VectorRunSums.shiftedSums(x, from, length, runs, stride, k, vs, vq, 0);
                ScalarRunSums.shiftedSums(x, from, length, runs, stride, k, ss, sq, 0);
                String where = "length " + length + " x " + runs + " runs, mean " + mean;
                assertEquals(Double.doubleToRawLongBits(ss[0]), Double.doubleToRawLongBits(vs[0]), "sum, " + where);
                assertEquals(Double.doubleToRawLongBits(sq[0]), Double.doubleToRawLongBits(vq[0]), "squares, " + where);
                double s = 0.5, q = 0.25, scale = 0;
                for (int r = 0; r < runs; r++) {
                    for (int i = from + r * stride; i < from + r * stride + length; i++) {
                        double d = (double) x[i] - k;
                        s += d;
                        q += d * d;
                        scale += Math.abs(d);
                    }
                }
                assertEquals(s, vs[0], 1e-6 * scale + 1e-12, "sum vs fp64, " + where);
                assertEquals(q, vq[0], 1e-6 * q + 1e-12, "squares vs fp64, " + where);
            }
        }
    }

    @Test
    void gradientSumsAreBitwiseEqualAndCloseToFp64() {
        Random random = new Random(32);
        for (int length : LENGTHS) {
            int runs = 1 + random.nextInt(5);
            int stride = length + random.nextInt(20);
            float[] x = values(random, runs * stride + 5, 500, 3);
            float[] dy = values(random, runs * stride + 3, 0.1, 1);
            int xFrom = random.nextInt(5);
            int dyFrom = random.nextInt(3);
            float mean = x[xFrom];
            double[] vg = {0}, vh = {0}, sg = {0}, sh = {0};
            VectorRunSums.gradientSums(dy, dyFrom, x, xFrom, length, runs, stride, mean, vg, vh, 0);
            ScalarRunSums.gradientSums(dy, dyFrom, x, xFrom, length, runs, stride, mean, sg, sh, 0);
            assertEquals(Double.doubleToRawLongBits(sg[0]), Double.doubleToRawLongBits(vg[0]), "sum(dy), length " + length);
            assertEquals(Double.doubleToRawLongBits(sh[0]), Double.doubleToRawLongBits(vh[0]), "dot, length " + length);
            double g = 0, h = 0, scaleG = 0, scaleH = 0;
            for (int i = 0; i < length * runs; i++) {
                int at = i / Math.max(1, length) * stride + i % Math.max(1, length);
                double d = dy[dyFrom + at];
                double c = (double) x[xFrom + at] - mean;
                g += d;
                h += d * c;
                scaleG += Math.abs(d);
                scaleH += Math.abs(d * c);
            }
            assertEquals(g, vg[0], 1e-6 * scaleG + 1e-12, "sum(dy) vs fp64, length " + length);
            assertEquals(h, vh[0], 1e-6 * scaleH + 1e-12, "dot vs fp64, length " + length);
        }
    }

    @Test
    void sumsAreBitwiseEqualOnValuesOfWidelySpreadMagnitude() {
        // Lane totals of floats of like magnitude add exactly in fp64 in any order. Here each of
        // the 8 positions mod 8 (so each lane of a run) has its own scale, 2^-30 to 2^30, so that
        // adding the lane totals rounds and only the documented order passes.
        Random random = new Random(33);
        for (int trial = 0; trial < 10 * LENGTHS.length; trial++) {
            int length = LENGTHS[trial % LENGTHS.length];
            int runs = 1 + random.nextInt(6);
            int stride = length + random.nextInt(20);
            float[] x = new float[runs * stride + 5];
            float[] dy = new float[x.length];
            double[] xScale = new double[8], dyScale = new double[8];
            for (int l = 0; l < 8; l++) {
                xScale[l] = Math.scalb(1.0, random.nextInt(61) - 30);
                dyScale[l] = Math.scalb(1.0, random.nextInt(61) - 30);
            }
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() * xScale[i % 8]);
                dy[i] = (float) (random.nextGaussian() * dyScale[i % 8]);
            }
            int from = random.nextInt(5);
            float k = 0; // a data value would dominate every lane and hide their scales
            double[] vs = {0}, vq = {0}, ss = {0}, sq = {0};
            VectorRunSums.shiftedSums(x, from, length, runs, stride, k, vs, vq, 0);
            ScalarRunSums.shiftedSums(x, from, length, runs, stride, k, ss, sq, 0);
            assertEquals(Double.doubleToRawLongBits(ss[0]), Double.doubleToRawLongBits(vs[0]), "sum, length " + length);
            assertEquals(Double.doubleToRawLongBits(sq[0]), Double.doubleToRawLongBits(vq[0]), "squares, length " + length);
            double[] vg = {0}, vh = {0}, sg = {0}, sh = {0};
            VectorRunSums.gradientSums(dy, from, x, from, length, runs, stride, k, vg, vh, 0);
            ScalarRunSums.gradientSums(dy, from, x, from, length, runs, stride, k, sg, sh, 0);
            assertEquals(Double.doubleToRawLongBits(sg[0]), Double.doubleToRawLongBits(vg[0]), "sum(dy), length " + length);
            assertEquals(Double.doubleToRawLongBits(sh[0]), Double.doubleToRawLongBits(vh[0]), "dot, length " + length);
        }
    }

    @Test
    void elementwisePassesAreBitwiseEqual() {
        Random random = new Random(33);
        for (int length : LENGTHS) {
            int c1 = Math.max(1, length);
            int c0 = random.nextInt(Math.min(c1, 5));
            float[] x = values(random, c1 + 7, 1e3, 5);
            float[] dy = values(random, c1 + 7, 0, 1);
            float[] hi = values(random, c1, 1e3, 1);
            float[] scale = values(random, c1, 1, 0.5);
            float[] shift = values(random, c1, 0, 1);
            float[] k0 = values(random, c1, 0, 1e-3);
            int xi = random.nextInt(7);
            int yi = random.nextInt(7);
            String where = "length " + length;
            float[] want = new float[c1 + 7];
            float[] got = new float[c1 + 7];
            ScalarNormalizeLoops.normalize(x, xi, want, yi, length, hi[0], scale[0], shift[0]);
            VectorNormalizeLoops.normalize(x, xi, got, yi, length, hi[0], scale[0], shift[0]);
            assertBitwise("normalize, " + where, want, got);
            // channels-last rows: every count around the vector code's 4- and 8-row blocks, strides
            // past c1, and whole rows back to back (c0 = 0, stride = c1), which NormalizeLoops and
            // BackwardLoops send to the one-loop methods when c1 % 8 == 0 and c1 >= 256 (rows of 256 channels or
            // more sum 8 rows at a time); the vector side goes through it
            for (boolean whole : new boolean[] {false, true}) {
                int r0 = whole ? 0 : c0;
                int rows = 1 + random.nextInt(19);
                int stride = whole ? c1 : c1 + random.nextInt(3);
                String rowsWhere = where + ", " + rows + " rows of stride " + stride + ", channels " + r0 + ".." + c1;
                float[] xr = values(random, 7 + rows * stride, 1e3, 5);
                float[] dyr = values(random, 7 + rows * stride, 0, 1);
                float[] wantRows = new float[7 + rows * stride];
                float[] gotRows = new float[7 + rows * stride];
                boolean shareLoads = random.nextBoolean(); // 4 rows per coefficient load, or one at a time
                rowsWhere += shareLoads ? ", rows sharing loads" : ", one row at a time";
                ScalarNormalizeLoops.normalizeRows(xr, xi, wantRows, yi, rows, stride, r0, c1, hi, scale, shift);
                NormalizeLoops.normalizeRows(xr, xi, gotRows, yi, rows, stride, r0, c1, hi, scale, shift, shareLoads);
                assertBitwise("normalizeRows, " + rowsWhere, wantRows, gotRows);
                ScalarBackwardLoops.gradientApplyRows(dyr, yi, xr, xi, wantRows, 0, rows, stride, r0, c1, hi, scale,
                        shift, k0);
                float[] packed = new float[BackwardLoops.packedGradientLength(c1)];
                for (int c = 0; c < c1; c++) {
                    BackwardLoops.packGradientCoefficients(packed, c, hi[c], scale[c], shift[c], k0[c]);
                }
                BackwardLoops.gradientApplyRows(dyr, yi, xr, xi, gotRows, 0, rows, stride, r0, c1, hi, scale, shift,
                        k0, packed, shareLoads);
                assertBitwise("gradientApplyRows, " + rowsWhere, wantRows, gotRows);
                float[] ws = values(random, c1 + 3, 0, 1);
                float[] wq = values(random, c1 + 3, 2, 1);
                float[] gs = ws.clone();
                float[] gq = wq.clone();
                int last = whole ? c1 : c1 - 3 > r0 ? c1 - 3 : r0; // whole rows, or a part of them
                float[] shifts = values(random, c1 + 3, 1e3, 1); // lanes and shifts from slot 3 on
                ScalarStatisticsLoops.accumulateShiftedRows(xr, xi, rows, stride, shifts, ws, wq, 3, r0, last);
                StatisticsLoops.accumulateShiftedRows(xr, xi, rows, stride, shifts, gs, gq, 3, r0, last);
                assertBitwise("accumulateShiftedRows sums, " + rowsWhere, ws, gs);
                assertBitwise("accumulateShiftedRows squares, " + rowsWhere, wq, gq);
                ScalarBackwardLoops.accumulateGradientRows(dyr, yi, xr, xi, rows, stride, hi, ws, wq, 0, r0, c1);
                BackwardLoops.accumulateGradientRows(dyr, yi, xr, xi, rows, stride, hi, gs, gq, 0, r0, c1);
                assertBitwise("accumulateGradientRows sums, " + rowsWhere, ws, gs);
                assertBitwise("accumulateGradientRows dots, " + rowsWhere, wq, gq);
            }
        }
    }

    /**
     * Segments the vector side sums with its lanes in registers: exactly 64 channels in rows of
     * any stride, and wider segments, a column of 64 channels at a time with a narrower last
     * column, in rows of at most 256 channels (one width, 251 from channel 5, has strides on both
     * sides of 256).
     */
    @Test
    void registerLaneRowSumsAreBitwiseEqual() {
        Random random = new Random(64);
        for (int width : new int[] {64, 65, 96, 128, 200, 251, 256}) {
            for (int rows = 1; rows <= 19; rows++) {
                for (int c0 : new int[] {0, 5}) {
                    for (int stride : new int[] {width + c0, width + c0 + 7}) {
                        int c1 = c0 + width;
                        String where = rows + " rows of stride " + stride + ", channels " + c0 + ".." + c1;
                        int xi = random.nextInt(7);
                        float[] x = values(random, xi + rows * stride, 1e3, 5);
                        float[] dy = values(random, xi + rows * stride, 0, 1);
                        float[] shifts = values(random, stride + 3, 1e3, 1);
                        float[] ws = values(random, stride + 3, 0, 1);
                        float[] wq = values(random, stride + 3, 2, 1);
                        float[] gs = ws.clone();
                        float[] gq = wq.clone();
                        ScalarStatisticsLoops.accumulateShiftedRows(x, xi, rows, stride, shifts, ws, wq, 3, c0, c1);
                        StatisticsLoops.accumulateShiftedRows(x, xi, rows, stride, shifts, gs, gq, 3, c0, c1);
                        assertBitwise("accumulateShiftedRows sums, " + where, ws, gs);
                        assertBitwise("accumulateShiftedRows squares, " + where, wq, gq);
                        ScalarBackwardLoops.accumulateGradientRows(dy, xi, x, xi, rows, stride, shifts, ws, wq, 3,
                                c0, c1);
                        BackwardLoops.accumulateGradientRows(dy, xi, x, xi, rows, stride, shifts, gs, gq, 3, c0, c1);
                        assertBitwise("accumulateGradientRows sums, " + where, ws, gs);
                        assertBitwise("accumulateGradientRows dots, " + where, wq, gq);
                    }
                }
            }
        }
    }

    @Test
    void foldedLanesAddExactlyIntoTheirPartialsAndAreZeroed() {
        Random random = new Random(34);
        for (int from : new int[] {0, 3, 8}) {
            for (int len : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 33, 1024, 1031}) {
                int to = from + len;
                float[] s = values(random, to + 9, 0, 1e3);
                float[] q = values(random, to + 9, 5e3, 1e3);
                double[] a = doubles(random, to + 9);
                double[] b = doubles(random, to + 9);
                float[] s0 = s.clone(), q0 = q.clone();
                double[] a0 = a.clone(), b0 = b.clone();
                StatisticsLoops.foldLanes(s, q, a, b, from, to);
                for (int i = 0; i < s.length; i++) {
                    boolean in = i >= from && i < to;
                    String where = "lane " + i + " of a fold over [" + from + ", " + to + ")";
                    assertEquals(in ? a0[i] + (double) s0[i] : a0[i], a[i], 0.0, where);
                    assertEquals(in ? b0[i] + (double) q0[i] : b0[i], b[i], 0.0, where);
                    assertEquals(in ? 0f : s0[i], s[i], 0f, where);
                    assertEquals(in ? 0f : q0[i], q[i], 0f, where);
                }
            }
        }
    }

    private static void assertBitwise(String what, float[] want, float[] got) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), what + " at " + i);
        }
    }

    private static double[] doubles(Random random, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 1e4 * random.nextGaussian();
        }
        return v;
    }

    private static float[] values(Random random, int n, double mean, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + std * random.nextGaussian());
        }
        return v;
    }
}

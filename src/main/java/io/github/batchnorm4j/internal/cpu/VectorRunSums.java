package io.github.batchnorm4j.internal.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link RunSums} with the Vector API: one 256-bit vector of 8 float lanes per run, four runs at a
 * time (four memory streams in flight). After each float block the lanes widen into two 256-bit
 * vectors of fp64 lane totals, which become one number only at the end of the run: taking the 8
 * lanes apart after every block (every 16 terms for gradients) instead made NCHW backward 7-9%
 * slower (design.md, 'NCHW lane totals in vectors'). Loaded only when the incubator module is present;
 * {@link ScalarRunSums} is its bitwise twin.
 */
final class VectorRunSums {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_256;
    private static final int W = RunSums.LANES;
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_256;

    private VectorRunSums() {
    }

    static void shiftedSums(float[] x, int from, int len, int runs, int stride, float k, double[] sum,
            double[] squares, int slot) {
        // Each loop body is its own method, so the JIT compiles each with its own profile: a
        // method whose rarely taken branch deoptimizes runs boxed vectors until recompiled.
        int r = 0;
        for (; r + 3 < runs; r += 4) {
            fourRunsShifted(x, from + r * stride, len, stride, k, sum, squares, slot);
        }
        for (; r < runs; r++) {
            oneRunShifted(x, from + r * stride, len, k, sum, squares, slot);
        }
    }

    private static void fourRunsShifted(float[] x, int i0, int len, int stride, float k, double[] sum,
            double[] squares, int slot) {
        int whole = len / W * W;
        int i1 = i0 + stride;
        int i2 = i1 + stride;
        int i3 = i2 + stride;
        DoubleVector zero = DoubleVector.zero(DOUBLES);
        // Each run's fp64 lane totals, lanes 0-3 (l) and 4-7 (h): a for sums, b for squares.
        DoubleVector a0l = zero, a0h = zero, a1l = zero, a1h = zero, a2l = zero, a2h = zero, a3l = zero, a3h = zero;
        DoubleVector b0l = zero, b0h = zero, b1l = zero, b1h = zero, b2l = zero, b2h = zero, b3l = zero, b3h = zero;
        for (int p = 0; p < whole; ) {
            int end = Math.min(whole, p + RunSums.BLOCK);
            FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0;
            FloatVector q0 = s0, q1 = s0, q2 = s0, q3 = s0;
            for (; p < end; p += W) {
                FloatVector d0 = FloatVector.fromArray(SPECIES, x, i0 + p).sub(k);
                FloatVector d1 = FloatVector.fromArray(SPECIES, x, i1 + p).sub(k);
                FloatVector d2 = FloatVector.fromArray(SPECIES, x, i2 + p).sub(k);
                FloatVector d3 = FloatVector.fromArray(SPECIES, x, i3 + p).sub(k);
                s0 = s0.add(d0);
                s1 = s1.add(d1);
                s2 = s2.add(d2);
                s3 = s3.add(d3);
                q0 = d0.fma(d0, q0);
                q1 = d1.fma(d1, q1);
                q2 = d2.fma(d2, q2);
                q3 = d3.fma(d3, q3);
            }
            a0l = a0l.add((DoubleVector) s0.convertShape(VectorOperators.F2D, DOUBLES, 0));
            a0h = a0h.add((DoubleVector) s0.convertShape(VectorOperators.F2D, DOUBLES, 1));
            b0l = b0l.add((DoubleVector) q0.convertShape(VectorOperators.F2D, DOUBLES, 0));
            b0h = b0h.add((DoubleVector) q0.convertShape(VectorOperators.F2D, DOUBLES, 1));
            a1l = a1l.add((DoubleVector) s1.convertShape(VectorOperators.F2D, DOUBLES, 0));
            a1h = a1h.add((DoubleVector) s1.convertShape(VectorOperators.F2D, DOUBLES, 1));
            b1l = b1l.add((DoubleVector) q1.convertShape(VectorOperators.F2D, DOUBLES, 0));
            b1h = b1h.add((DoubleVector) q1.convertShape(VectorOperators.F2D, DOUBLES, 1));
            a2l = a2l.add((DoubleVector) s2.convertShape(VectorOperators.F2D, DOUBLES, 0));
            a2h = a2h.add((DoubleVector) s2.convertShape(VectorOperators.F2D, DOUBLES, 1));
            b2l = b2l.add((DoubleVector) q2.convertShape(VectorOperators.F2D, DOUBLES, 0));
            b2h = b2h.add((DoubleVector) q2.convertShape(VectorOperators.F2D, DOUBLES, 1));
            a3l = a3l.add((DoubleVector) s3.convertShape(VectorOperators.F2D, DOUBLES, 0));
            a3h = a3h.add((DoubleVector) s3.convertShape(VectorOperators.F2D, DOUBLES, 1));
            b3l = b3l.add((DoubleVector) q3.convertShape(VectorOperators.F2D, DOUBLES, 0));
            b3h = b3h.add((DoubleVector) q3.convertShape(VectorOperators.F2D, DOUBLES, 1));
        }
        DoubleVector a0v = a0l.add(a0h);
        double a0 = a0v.lane(0) + a0v.lane(1) + a0v.lane(2) + a0v.lane(3);
        DoubleVector b0v = b0l.add(b0h);
        double b0 = b0v.lane(0) + b0v.lane(1) + b0v.lane(2) + b0v.lane(3);
        DoubleVector a1v = a1l.add(a1h);
        double a1 = a1v.lane(0) + a1v.lane(1) + a1v.lane(2) + a1v.lane(3);
        DoubleVector b1v = b1l.add(b1h);
        double b1 = b1v.lane(0) + b1v.lane(1) + b1v.lane(2) + b1v.lane(3);
        DoubleVector a2v = a2l.add(a2h);
        double a2 = a2v.lane(0) + a2v.lane(1) + a2v.lane(2) + a2v.lane(3);
        DoubleVector b2v = b2l.add(b2h);
        double b2 = b2v.lane(0) + b2v.lane(1) + b2v.lane(2) + b2v.lane(3);
        DoubleVector a3v = a3l.add(a3h);
        double a3 = a3v.lane(0) + a3v.lane(1) + a3v.lane(2) + a3v.lane(3);
        DoubleVector b3v = b3l.add(b3h);
        double b3 = b3v.lane(0) + b3v.lane(1) + b3v.lane(2) + b3v.lane(3);
        for (int p = whole; p < len; p++) {
            float d0 = x[i0 + p] - k, d1 = x[i1 + p] - k, d2 = x[i2 + p] - k, d3 = x[i3 + p] - k;
            a0 += d0;
            a1 += d1;
            a2 += d2;
            a3 += d3;
            b0 += (double) d0 * d0;
            b1 += (double) d1 * d1;
            b2 += (double) d2 * d2;
            b3 += (double) d3 * d3;
        }
        sum[slot] += a0;
        squares[slot] += b0;
        sum[slot] += a1;
        squares[slot] += b1;
        sum[slot] += a2;
        squares[slot] += b2;
        sum[slot] += a3;
        squares[slot] += b3;
    }

    private static void oneRunShifted(float[] x, int i0, int len, float k, double[] sum, double[] squares,
            int slot) {
        int whole = len / W * W;
        DoubleVector zero = DoubleVector.zero(DOUBLES);
        DoubleVector al = zero, ah = zero, bl = zero, bh = zero;
        for (int p = 0; p < whole; ) {
            int end = Math.min(whole, p + RunSums.BLOCK);
            FloatVector s = FloatVector.zero(SPECIES), q = s;
            for (; p < end; p += W) {
                FloatVector d = FloatVector.fromArray(SPECIES, x, i0 + p).sub(k);
                s = s.add(d);
                q = d.fma(d, q);
            }
            al = al.add((DoubleVector) s.convertShape(VectorOperators.F2D, DOUBLES, 0));
            ah = ah.add((DoubleVector) s.convertShape(VectorOperators.F2D, DOUBLES, 1));
            bl = bl.add((DoubleVector) q.convertShape(VectorOperators.F2D, DOUBLES, 0));
            bh = bh.add((DoubleVector) q.convertShape(VectorOperators.F2D, DOUBLES, 1));
        }
        DoubleVector av = al.add(ah);
        double a = av.lane(0) + av.lane(1) + av.lane(2) + av.lane(3);
        DoubleVector bv = bl.add(bh);
        double b = bv.lane(0) + bv.lane(1) + bv.lane(2) + bv.lane(3);
        for (int p = whole; p < len; p++) {
            float d = x[i0 + p] - k;
            a += d;
            b += (double) d * d;
        }
        sum[slot] += a;
        squares[slot] += b;
    }

    static void gradientSums(float[] dy, int dyFrom, float[] x, int xFrom, int len, int runs, int stride,
            float k, double[] sum, double[] dot, int slot) {
        int r = 0;
        for (; r + 1 < runs; r += 2) {
            twoRunsGradient(dy, dyFrom + r * stride, x, xFrom + r * stride, len, stride, k, sum, dot, slot);
        }
        for (; r < runs; r++) {
            oneRunGradient(dy, dyFrom + r * stride, x, xFrom + r * stride, len, k, sum, dot, slot);
        }
    }

    private static void twoRunsGradient(float[] dy, int j0, float[] x, int i0, int len, int stride, float k,
            double[] sum, double[] dot, int slot) {
        int whole = len / W * W;
        int i1 = i0 + stride;
        int j1 = j0 + stride;
        DoubleVector zero = DoubleVector.zero(DOUBLES);
        DoubleVector g0l = zero, g0h = zero, g1l = zero, g1h = zero, h0l = zero, h0h = zero, h1l = zero, h1h = zero;
        for (int p = 0; p < whole; ) {
            int end = Math.min(whole, p + RunSums.GRADIENT_BLOCK);
            FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, t0 = s0, t1 = s0;
            for (; p < end; p += W) {
                FloatVector e0 = FloatVector.fromArray(SPECIES, dy, j0 + p);
                FloatVector e1 = FloatVector.fromArray(SPECIES, dy, j1 + p);
                FloatVector c0 = FloatVector.fromArray(SPECIES, x, i0 + p).sub(k);
                FloatVector c1 = FloatVector.fromArray(SPECIES, x, i1 + p).sub(k);
                s0 = s0.add(e0);
                s1 = s1.add(e1);
                t0 = e0.fma(c0, t0);
                t1 = e1.fma(c1, t1);
            }
            g0l = g0l.add((DoubleVector) s0.convertShape(VectorOperators.F2D, DOUBLES, 0));
            g0h = g0h.add((DoubleVector) s0.convertShape(VectorOperators.F2D, DOUBLES, 1));
            h0l = h0l.add((DoubleVector) t0.convertShape(VectorOperators.F2D, DOUBLES, 0));
            h0h = h0h.add((DoubleVector) t0.convertShape(VectorOperators.F2D, DOUBLES, 1));
            g1l = g1l.add((DoubleVector) s1.convertShape(VectorOperators.F2D, DOUBLES, 0));
            g1h = g1h.add((DoubleVector) s1.convertShape(VectorOperators.F2D, DOUBLES, 1));
            h1l = h1l.add((DoubleVector) t1.convertShape(VectorOperators.F2D, DOUBLES, 0));
            h1h = h1h.add((DoubleVector) t1.convertShape(VectorOperators.F2D, DOUBLES, 1));
        }
        DoubleVector g0v = g0l.add(g0h);
        double g0 = g0v.lane(0) + g0v.lane(1) + g0v.lane(2) + g0v.lane(3);
        DoubleVector h0v = h0l.add(h0h);
        double h0 = h0v.lane(0) + h0v.lane(1) + h0v.lane(2) + h0v.lane(3);
        DoubleVector g1v = g1l.add(g1h);
        double g1 = g1v.lane(0) + g1v.lane(1) + g1v.lane(2) + g1v.lane(3);
        DoubleVector h1v = h1l.add(h1h);
        double h1 = h1v.lane(0) + h1v.lane(1) + h1v.lane(2) + h1v.lane(3);
        for (int p = whole; p < len; p++) {
            float e0 = dy[j0 + p], e1 = dy[j1 + p];
            float c0 = x[i0 + p] - k, c1 = x[i1 + p] - k;
            g0 += e0;
            g1 += e1;
            h0 += (double) e0 * c0;
            h1 += (double) e1 * c1;
        }
        sum[slot] += g0;
        dot[slot] += h0;
        sum[slot] += g1;
        dot[slot] += h1;
    }

    private static void oneRunGradient(float[] dy, int j0, float[] x, int i0, int len, float k, double[] sum,
            double[] dot, int slot) {
        int whole = len / W * W;
        DoubleVector zero = DoubleVector.zero(DOUBLES);
        DoubleVector gl = zero, gh = zero, hl = zero, hh = zero;
        for (int p = 0; p < whole; ) {
            int end = Math.min(whole, p + RunSums.GRADIENT_BLOCK);
            FloatVector s = FloatVector.zero(SPECIES), t = s;
            for (; p < end; p += W) {
                FloatVector e = FloatVector.fromArray(SPECIES, dy, j0 + p);
                FloatVector c = FloatVector.fromArray(SPECIES, x, i0 + p).sub(k);
                s = s.add(e);
                t = e.fma(c, t);
            }
            gl = gl.add((DoubleVector) s.convertShape(VectorOperators.F2D, DOUBLES, 0));
            gh = gh.add((DoubleVector) s.convertShape(VectorOperators.F2D, DOUBLES, 1));
            hl = hl.add((DoubleVector) t.convertShape(VectorOperators.F2D, DOUBLES, 0));
            hh = hh.add((DoubleVector) t.convertShape(VectorOperators.F2D, DOUBLES, 1));
        }
        DoubleVector gv = gl.add(gh);
        double g = gv.lane(0) + gv.lane(1) + gv.lane(2) + gv.lane(3);
        DoubleVector hv = hl.add(hh);
        double h = hv.lane(0) + hv.lane(1) + hv.lane(2) + hv.lane(3);
        for (int p = whole; p < len; p++) {
            float e = dy[j0 + p];
            float c = x[i0 + p] - k;
            g += e;
            h += (double) e * c;
        }
        sum[slot] += g;
        dot[slot] += h;
    }
}

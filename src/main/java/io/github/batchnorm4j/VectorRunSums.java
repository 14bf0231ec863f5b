package io.github.batchnorm4j;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link RunSums} with the Vector API: one 256-bit vector of 8 float lanes per run, four runs at a
 * time (four memory streams in flight). Loaded only when the incubator module is present;
 * {@link ScalarRunSums} is its bitwise twin.
 */
final class VectorRunSums {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_256;
    private static final int W = RunSums.LANES;

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
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
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
            a0 += laneSum(s0);
            a1 += laneSum(s1);
            a2 += laneSum(s2);
            a3 += laneSum(s3);
            b0 += laneSum(q0);
            b1 += laneSum(q1);
            b2 += laneSum(q2);
            b3 += laneSum(q3);
        }
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
        double a = 0, b = 0;
        for (int p = 0; p < whole; ) {
            int end = Math.min(whole, p + RunSums.BLOCK);
            FloatVector s = FloatVector.zero(SPECIES), q = s;
            for (; p < end; p += W) {
                FloatVector d = FloatVector.fromArray(SPECIES, x, i0 + p).sub(k);
                s = s.add(d);
                q = d.fma(d, q);
            }
            a += laneSum(s);
            b += laneSum(q);
        }
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
        double g0 = 0, g1 = 0, h0 = 0, h1 = 0;
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
            g0 += laneSum(s0);
            g1 += laneSum(s1);
            h0 += laneSum(t0);
            h1 += laneSum(t1);
        }
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
        double g = 0, h = 0;
        for (int p = 0; p < whole; ) {
            int end = Math.min(whole, p + RunSums.GRADIENT_BLOCK);
            FloatVector s = FloatVector.zero(SPECIES), t = s;
            for (; p < end; p += W) {
                FloatVector e = FloatVector.fromArray(SPECIES, dy, j0 + p);
                FloatVector c = FloatVector.fromArray(SPECIES, x, i0 + p).sub(k);
                s = s.add(e);
                t = e.fma(c, t);
            }
            g += laneSum(s);
            h += laneSum(t);
        }
        for (int p = whole; p < len; p++) {
            float e = dy[j0 + p];
            float c = x[i0 + p] - k;
            g += e;
            h += (double) e * c;
        }
        sum[slot] += g;
        dot[slot] += h;
    }

    /** The 8 lanes added in fp64, lane 0 first (from 0, as the scalar twin does). */
    private static double laneSum(FloatVector v) {
        return (double) v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3) + v.lane(4) + v.lane(5) + v.lane(6)
                + v.lane(7);
    }
}

package io.github.batchnorm4j.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.github.batchnorm4j.internal.cuda.LaunchConstants.BACKWARD_SCRATCH_BYTES_PER_CHANNEL;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.CHANNELS_LAST_TILE_CHANNELS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COEFFICIENTS_PER_CHANNEL;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COUNTERS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COUNT_BATCHES;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.COUNT_FORWARDS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.FAILURE_RECORD_LONGS;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.FAILURE_RECORD_SEQUENCE;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAMS_PER_CHANNEL;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAM_MEAN_HI;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAM_MEAN_LO;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAM_SCALE;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.PARAM_SHIFT;
import static io.github.batchnorm4j.internal.cuda.LaunchConstants.STATISTICS_SCRATCH_BYTES_PER_CHANNEL;

import io.github.batchnorm4j.internal.cuda.FastDivisor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The shipped kernels run under the interpreter's checks, deterministic and seeded, for a training
 * forward and backward in both layouts and for inference; results against an fp64 reference. Any
 * race, uninitialized read, barrier or shuffle defect in them fails here with a DeviceFault.
 */
class ShippedKernelsRunTest {
    private static final double EPS = 1e-5;
    private static final double MOMENTUM = 0.1;
    private static final Schedule[] SCHEDULES = {Schedule.DETERMINISTIC, new Schedule(3), new Schedule(99)};
    /**
     * Mean, invstd and running statistics against the fp64 reference, relative to max(1, |value|):
     * float sums of m = 21 or 24 values in (3, 2^2) are off by at most about m * 2^-24 = 1.4e-6
     * of the sum; measured at most 8.1e-8 (channels-last mean).
     */
    private static final double STATISTICS_TOLERANCE = 2e-6;
    /**
     * dx, as the other kernel tests hold outputs (Tolerance): measured at most 4.2e-6 (channels-last,
     * channel 35, gamma 9.25, where dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat))
     * magnifies the float sums' rounding by gamma * invstd = 7.1; the same under all three
     * schedules), 3.3e-7 for NCHW. The schedules are seeded, so the figures are the same every run.
     */
    private static final double GRADIENT_TOLERANCE = 2e-5;

    private static PtxKernel kernel(String module, String name) {
        return Fixtures.kernel(Fixtures.shipped(module), name);
    }

    /** gridDim.y of the channels-last reductions for c channels. */
    private static int tiles(int c) {
        return (c + CHANNELS_LAST_TILE_CHANNELS - 1) / CHANNELS_LAST_TILE_CHANNELS;
    }

    /** x[n][c][s] (channels-first) or x[n][s][c] (channels-last). */
    private static float[] data(int n, int c, int s, long seed) {
        Random random = new Random(seed);
        float[] x = new float[n * c * s];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * 2 + 3);
        }
        return x;
    }

    private static double[][] moments(float[] x, int n, int c, int s, boolean channelsLast) {
        double[] mean = new double[c];
        double[] var = new double[c];
        int m = n * s;
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int i = 0; i < m; i++) {
                sum += x[index(i, ch, n, c, s, channelsLast)];
            }
            mean[ch] = sum / m;
            double sq = 0;
            for (int i = 0; i < m; i++) {
                double d = x[index(i, ch, n, c, s, channelsLast)] - mean[ch];
                sq += d * d;
            }
            var[ch] = sq / m;
        }
        return new double[][] {mean, var};
    }

    private static int index(int i, int ch, int n, int c, int s, boolean channelsLast) {
        int sample = i / s;
        int position = i % s;
        return channelsLast ? (sample * s + position) * c + ch : (sample * c + ch) * s + position;
    }

    private static void assertClose(double expected, double actual, double tolerance, String what) {
        assertTrue(Math.abs(expected - actual) <= tolerance * Math.max(1, Math.abs(expected)),
                what + ": expected " + expected + ", was " + actual + " (relative tolerance " + tolerance + ")");
    }

    @Test
    void trainingForwardAndBackwardChannelsFirst() {
        for (int spatial : new int[] {7, 8}) {
            for (Schedule schedule : SCHEDULES) {
                run(3, 5, spatial, false, schedule);
            }
        }
    }

    @Test
    void trainingForwardAndBackwardChannelsLast() {
        for (Schedule schedule : SCHEDULES) {
            run(3, 40, 7, true, schedule);
        }
    }

    private void run(int n, int c, int s, boolean channelsLast, Schedule schedule) {
        String where = (channelsLast ? "channels-last " : "NCHW ") + n + "x" + c + "x" + s + " " + schedule;
        int count = n * c * s;
        int m = n * s;
        float[] x = data(n, c, s, 17);
        float[] dy = data(n, c, s, 18);
        float[] gamma = new float[c];
        float[] beta = new float[c];
        for (int ch = 0; ch < c; ch++) {
            gamma[ch] = 0.5f + ch * 0.25f;
            beta[ch] = ch - 1.5f;
        }
        ByteArrayMemory mem = new ByteArrayMemory(1 << 22);
        long px = mem.allocateFloats(x);
        long pdy = mem.allocateFloats(dy);
        long py = mem.allocate(4L * count);
        long pdx = mem.allocate(4L * count);
        long pGamma = mem.allocateFloats(gamma);
        long pBeta = mem.allocateFloats(beta);
        long runningMean = mem.allocateFloats(new float[c]);
        float[] ones = new float[c];
        java.util.Arrays.fill(ones, 1.0f);
        long runningVar = mem.allocateFloats(ones);
        long savedMean = mem.allocate(8L * c);
        long savedInvstd = mem.allocate(4L * c);
        long params = mem.allocate(4L * PARAMS_PER_CHANNEL * c);
        long scratch = mem.allocate((long) STATISTICS_SCRATCH_BYTES_PER_CHANNEL * c);
        long runningInvstd = mem.allocate(4L * c);
        long counters = mem.allocateZeros(8 * COUNTERS);
        long failure = mem.allocateZeros(8 * FAILURE_RECORD_LONGS);
        long blocksDone = mem.allocateZeros(4);
        int blocksPerChannel = 3;
        long partials = (long) c * blocksPerChannel;
        long pCount = mem.allocate(4 * partials);
        long pMean = mem.allocate(4 * partials);
        long pM2 = mem.allocate(4 * partials);
        double scale = (double) m / (m - 1);
        if (channelsLast) {
            int rowsPerBlock = (m + blocksPerChannel - 1) / blocksPerChannel;
            PtxKernel stats = kernel("batch_norm_statistics", "bn_statistics_channels_last");
            byte[] args = new ParameterBuffer(stats).u64(px).u64(m).u64(c).u64(rowsPerBlock).u64(pCount).u64(pMean)
                    .u64(pM2).f64(EPS).u64(pGamma).u64(pBeta).u32(1).u32(0).f64(MOMENTUM).f64(1 - MOMENTUM).f64(scale)
                    .u32(0).f64(1).f64(0) // no renormalization
                    .u64(runningMean).u64(runningVar).u64(params).u64(scratch).u64(counters).u64(failure)
                    .u64(blocksDone).bytes();
            Interpreter.launch(stats, Fixtures.dim(blocksPerChannel, tiles(c)),
                    Fixtures.dim(CHANNELS_LAST_TILE_CHANNELS, 4), 0, args, mem, schedule);
        } else {
            int perBlock = (m + blocksPerChannel - 1) / blocksPerChannel;
            PtxKernel stats = kernel("batch_norm_statistics", "bn_statistics_nchw");
            byte[] args = new ParameterBuffer(stats).u64(px).u64(c).u64(s).u64(m).u64(perBlock).u64(pCount).u64(pMean)
                    .u64(pM2).f64(EPS).u64(pGamma).u64(pBeta).u32(1).u32(0).f64(MOMENTUM).f64(1 - MOMENTUM).f64(scale)
                    .u32(0).f64(1).f64(0) // no renormalization
                    .u64(runningMean).u64(runningVar).u64(params).u64(scratch).u64(counters).u64(failure)
                    .u64(blocksDone).bytes();
            Interpreter.launch(stats, Fixtures.dim(blocksPerChannel, c), Fixtures.dim(64), 0, args, mem, schedule);
        }
        // The normalize kernel commits what the finishing step checked.
        normalize(mem, px, py, n, c, s, channelsLast, params, scratch, savedMean, savedInvstd, runningMean, runningVar,
                runningInvstd, counters, schedule);
        assertEquals(0, mem.getLong(failure + 8 * FAILURE_RECORD_SEQUENCE), where + ": no failure reported");
        assertEquals(1, mem.getLong(counters + 8 * COUNT_BATCHES), where + ": num_batches_tracked advanced");
        assertEquals(1, mem.getLong(counters + 8 * COUNT_FORWARDS), where + ": training forwards counted");
        assertEquals(0, mem.getInt(blocksDone), where + ": blocks_done is reset for the next launch");
        double[][] moments = moments(x, n, c, s, channelsLast);
        double[] mean = moments[0];
        double[] var = moments[1];
        double[] saved = mem.doubles(savedMean, c);
        float[] invstd = mem.floats(savedInvstd, c);
        float[] rm = mem.floats(runningMean, c);
        float[] rv = mem.floats(runningVar, c);
        for (int ch = 0; ch < c; ch++) {
            assertClose(mean[ch], saved[ch], STATISTICS_TOLERANCE, where + ": mean " + ch);
            assertClose(1 / Math.sqrt(var[ch] + EPS), invstd[ch], STATISTICS_TOLERANCE, where + ": invstd " + ch);
            assertClose(MOMENTUM * mean[ch], rm[ch], STATISTICS_TOLERANCE, where + ": running mean " + ch);
            assertClose(1 - MOMENTUM + MOMENTUM * var[ch] * scale, rv[ch], STATISTICS_TOLERANCE,
                    where + ": running var " + ch);
            assertEquals((float) (1.0 / Math.sqrt((double) rv[ch] + EPS)), mem.getFloat(runningInvstd + 4L * ch),
                    where + ": running invstd " + ch);
        }
        float[] p = mem.floats(params, PARAMS_PER_CHANNEL * c);
        float[] y = mem.floats(py, count);
        // params: a float4 per channel, or four planes of c floats for channels-last (normalize_params.cuh)
        int step = channelsLast ? c : 1;
        for (int i = 0; i < count; i++) {
            int ch = channelsLast ? i % c : i / s % c;
            int at = channelsLast ? ch : PARAMS_PER_CHANNEL * ch;
            float expected = Math.fma((x[i] - p[at + PARAM_MEAN_HI * step]) - p[at + PARAM_MEAN_LO * step],
                    p[at + PARAM_SCALE * step], p[at + PARAM_SHIFT * step]);
            assertEquals(expected, y[i], where + ": y[" + i + "]");
        }
        backward(mem, px, pdy, pdx, n, c, s, channelsLast, savedMean, savedInvstd, pGamma, params, counters, failure,
                blocksDone, schedule);
        assertEquals(0, mem.getLong(failure + 8 * FAILURE_RECORD_SEQUENCE),
                where + ": no failure reported by backward");
        assertEquals(0, mem.getInt(blocksDone), where + ": blocks_done is reset by backward");
        float[] dx = mem.floats(pdx, count);
        for (int ch = 0; ch < c; ch++) {
            double sumDy = 0;
            double sumDyx = 0;
            for (int i = 0; i < m; i++) {
                int at = index(i, ch, n, c, s, channelsLast);
                sumDy += dy[at];
                sumDyx += dy[at] * (x[at] - mean[ch]);
            }
            double is = 1 / Math.sqrt(var[ch] + EPS);
            double k = gamma[ch] * is;
            for (int i = 0; i < m; i++) {
                int at = index(i, ch, n, c, s, channelsLast);
                double expected = k * dy[at] - k * is * is * sumDyx / m * (x[at] - mean[ch]) - k * sumDy / m;
                assertClose(expected, dx[at], GRADIENT_TOLERANCE, where + ": dx[" + at + "]");
            }
        }
    }

    private static void normalize(ByteArrayMemory mem, long px, long py, int n, int c, int s, boolean channelsLast,
                                  long params, long scratch, long savedMean, long savedInvstd, long runningMean,
                                  long runningVar, long runningInvstd, long counters, Schedule schedule) {
        int count = n * c * s;
        if (channelsLast) {
            PtxKernel k = kernel("batch_norm_normalize", "bn_normalize_channels_last");
            byte[] args = divisor(new ParameterBuffer(k).u64(px).u64(py).u64(count).u64(c).u64(params)
                    .u32(c % 4 == 0 ? 1 : 0), c).u32(0).u64(0).u64(0).u64(0).u64(0)
                    .u32(1).u32(1).u64(scratch).u64(savedMean).u64(savedInvstd).u64(runningMean)
                    .u64(runningVar).u64(runningInvstd).u64(counters).u32(0).u64(0).bytes();
            Interpreter.launch(k, Fixtures.dim(4), Fixtures.dim(64), 0, args, mem, schedule);
        } else {
            PtxKernel k = kernel("batch_norm_normalize", "bn_normalize_nchw");
            byte[] args = divisor(divisor(new ParameterBuffer(k).u64(px).u64(py).u64((long) n * c).u64(c).u64(s)
                    .u64(params).u32(s % 4 == 0 ? 1 : 0), s), c).u32(0).u64(0).u64(0).u64(0).u64(0)
                    .u32(1).u32(1).u64(scratch).u64(savedMean).u64(savedInvstd).u64(runningMean)
                    .u64(runningVar).u64(runningInvstd).u64(counters).u32(0).u64(0).bytes();
            Interpreter.launch(k, Fixtures.dim(3), Fixtures.dim(64), 0, args, mem, schedule);
        }
    }

    /** The multiplier and log of a divisor the elementwise kernels take (cuda/fast_divide.cuh). */
    private static ParameterBuffer divisor(ParameterBuffer buffer, long d) {
        FastDivisor divisor = FastDivisor.of(d);
        return buffer.u64(divisor.multiplier()).u32(divisor.log());
    }

    private static void backward(ByteArrayMemory mem, long px, long pdy, long pdx, int n, int c, int s,
                                 boolean channelsLast, long savedMean, long savedInvstd, long pGamma, long params,
                                 long counters, long failure, long blocksDone, Schedule schedule) {
        int m = n * s;
        int blocks = 2;
        long partialDy = mem.allocate(8L * c * blocks);
        long partialDyx = mem.allocate(8L * c * blocks);
        long gammaGrad = mem.allocate(4L * c);
        long betaGrad = mem.allocate(4L * c);
        long coefficients = mem.allocate(4L * COEFFICIENTS_PER_CHANNEL * c);
        long scratch = mem.allocate((long) BACKWARD_SCRATCH_BYTES_PER_CHANNEL * c);
        String kernelName = channelsLast ? "bn_backward_sums_channels_last" : "bn_backward_sums_nchw";
        PtxKernel sums = kernel("batch_norm_backward", kernelName);
        ParameterBuffer head = channelsLast
                ? new ParameterBuffer(sums).u64(px).u64(pdy).u64(m).u64(c).u64((m + blocks - 1) / blocks)
                : new ParameterBuffer(sums).u64(px).u64(pdy).u64(c).u64(s).u64(m).u64((m + blocks - 1) / blocks);
        // reduce, batch terms, batch (not running) statistics, affine, no renormalization
        byte[] args = head.u32(1).u32(1).u32(0).u32(1).u32(0).u64(savedMean).u64(0).u64(savedInvstd).u64(0).u64(pGamma)
                .u64(partialDy).u64(partialDyx).u64(params).u64(coefficients).u64(scratch).u64(counters)
                .u64(failure).u64(blocksDone).bytes();
        if (channelsLast) {
            Interpreter.launch(sums, Fixtures.dim(blocks, tiles(c)), Fixtures.dim(CHANNELS_LAST_TILE_CHANNELS, 4), 0,
                    args, mem, schedule);
        } else {
            Interpreter.launch(sums, Fixtures.dim(blocks, c), Fixtures.dim(64), 0, args, mem, schedule);
        }
        if (channelsLast) {
            PtxKernel apply = kernel("batch_norm_backward", "bn_backward_apply_channels_last");
            byte[] a = divisor(new ParameterBuffer(apply).u64(px).u64(pdy).u64(pdx).u64((long) m * c).u64(c)
                    .u64(params).u64(coefficients), c).u32(1).u64(scratch).u64(gammaGrad).u64(betaGrad).u64(counters)
                    .bytes();
            Interpreter.launch(apply, Fixtures.dim(3), Fixtures.dim(64), 0, a, mem, schedule);
        } else {
            PtxKernel apply = kernel("batch_norm_backward", "bn_backward_apply_nchw");
            byte[] a = divisor(divisor(new ParameterBuffer(apply).u64(px).u64(pdy).u64(pdx).u64((long) n * c).u64(c)
                    .u64(s).u64(params).u64(coefficients).u32(s % 4 == 0 ? 1 : 0), s), c).u32(1).u64(scratch)
                    .u64(gammaGrad).u64(betaGrad).u64(counters).bytes();
            Interpreter.launch(apply, Fixtures.dim(3), Fixtures.dim(64), 0, a, mem, schedule);
        }
    }

    @Test
    void inferenceNormalizesWithTheRunningStatistics() {
        int c = 70;
        int n = 3;
        float[] rm = new float[c];
        float[] invstd = new float[c];
        for (int ch = 0; ch < c; ch++) {
            rm[ch] = ch * 0.5f - 3;
            invstd[ch] = (float) (1.0 / Math.sqrt(0.25 + ch + EPS));
        }
        for (boolean channelsLast : new boolean[] {false, true}) {
            int s = channelsLast ? 1 : 5;
            float[] x = data(n, c, s, 23);
            ByteArrayMemory mem = new ByteArrayMemory(1 << 16);
            long px = mem.allocateFloats(x);
            long py = mem.allocate(4L * x.length);
            long pm = mem.allocateFloats(rm);
            long pi = mem.allocateFloats(invstd);
            // from_running = 1, no params, no gamma or beta (1 and 0)
            PtxKernel k = kernel("batch_norm_normalize", channelsLast ? "bn_normalize_channels_last" : "bn_normalize_nchw");
            ParameterBuffer head = channelsLast
                    ? divisor(new ParameterBuffer(k).u64(px).u64(py).u64(x.length).u64(c).u64(0).u32(0), c)
                    : divisor(divisor(new ParameterBuffer(k).u64(px).u64(py).u64((long) n * c).u64(c).u64(s).u64(0)
                            .u32(0), s), c);
            byte[] args = head.u32(1).u64(pm).u64(pi).u64(0).u64(0).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0)
                    .u64(0).u64(0).u64(0).u32(0).u64(0).bytes(); // no commit
            Interpreter.launch(k, Fixtures.dim(2), Fixtures.dim(32), 0, args, mem, new Schedule(5));
            float[] y = mem.floats(py, x.length);
            for (int i = 0; i < x.length; i++) {
                int ch = channelsLast ? i % c : i / s % c;
                assertEquals(Math.fma(x[i] - rm[ch], invstd[ch], 0.0f), y[i], (channelsLast ? "NHWC" : "NCHW") + " y[" + i + "]");
            }
        }
    }
}

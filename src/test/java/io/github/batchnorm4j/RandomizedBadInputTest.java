package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Random bad calls, drawn from a seeded generator, on random layers: NaN or Infinity at a random
 * place in x or dy, wrong channel counts, lengths and offsets, partial overlaps, one value per
 * channel in training, setters with wrong lengths or non-finite values, bad settings, a backward of
 * another shape, a closed layer. Each must throw the expected exception naming the problem, leave
 * every piece of the layer's state bitwise as it was, and the next good step must equal, bit for
 * bit, that of a twin layer that never saw the bad call.
 */
class RandomizedBadInputTest {
    private static final int CPU_CASES = 1500;
    /**
     * Fewer under the emulator, where a case costs about 130 ms (two good steps of six calls); 400
     * still draw each of the 17 kinds of bad call, the rarest (bad momentum) 7 times.
     */
    private static final int CUDA_CASES = 400;

    /** A bad call, what it must throw, and a part of the message that names the problem. */
    private record BadCall(String kind, Class<? extends Throwable> type, String message, Executable call) {
    }

    @Test
    void randomBadCallsAreRejectedAndChangeNothingOnTheCpu() throws Throwable {
        randomBadCallsAreRejectedAndChangeNothing("cpu", CPU_CASES);
    }

    @Test
    @Tag(TestData.GPU)
    void randomBadCallsAreRejectedAndChangeNothingOnCuda() throws Throwable {
        randomBadCallsAreRejectedAndChangeNothing("cuda", CUDA_CASES);
    }

    private static void randomBadCallsAreRejectedAndChangeNothing(String backendName, int cases) throws Throwable {
        Supplier<BatchNormBackend> backends = backendsNamed(backendName);
        Random random = new Random(20261121L + backendName.hashCode());
        Map<String, Integer> counts = new TreeMap<>();
        for (int k = 0; k < cases; k++) {
            Shape shape = randomShape(random);
            BatchNormBuilder builder = randomSettings(random, shape.channels());
            try (BatchNorm layer = builder.build(backends.get()); BatchNorm twin = builder.build(backends.get())) {
                step(random, shape, layer, twin);
                float[][] before = TestData.wholeState(layer);
                BadCall bad = badCall(random, shape, layer);
                String what = backendName + " case " + k + " (" + bad.kind() + ") on " + shape + ", " + layer.config();
                Throwable error = assertThrows(bad.type(), bad.call(), what);
                assertTrue(error.getMessage() != null && error.getMessage().contains(bad.message()),
                        what + ": message should contain '" + bad.message() + "': " + error.getMessage());
                counts.merge(bad.kind(), 1, Integer::sum);
                if (bad.kind().equals("closed layer")) {
                    continue;
                }
                float[][] after = TestData.wholeState(layer);
                for (int i = 0; i < before.length; i++) {
                    assertArrayEquals(before[i], after[i], what + ": state item " + i + " changed");
                }
                step(random, shape, layer, twin);
            }
        }
        System.out.println("RandomizedBadInputTest, " + backendName + ": " + cases + " bad calls rejected " + counts);
        assertEquals(17, counts.size(), "every kind of bad call drawn: " + counts);
    }

    private static Supplier<BatchNormBackend> backendsNamed(String name) {
        if (name.equals("cpu")) {
            return CpuBackend::new;
        }
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        return () -> new CudaBackend(availability.context);
    }

    /**
     * One good training step, backward and inference on both layers with the same data; outputs
     * and the whole state must agree to the bit.
     */
    private static void step(Random random, Shape shape, BatchNorm layer, BatchNorm twin) {
        int count = (int) shape.elementCount();
        float[] x = TestData.activations(random, shape, random.nextInt(4) == 0 ? 100 : 0);
        float[] dy = TestData.gaussian(random, count);
        float[][] outputs = new float[6][count];
        layer.forwardTraining(shape, x, outputs[0]);
        twin.forwardTraining(shape, x, outputs[1]);
        layer.backward(shape, x, dy, outputs[2]);
        twin.backward(shape, x, dy, outputs[3]);
        layer.forwardInference(shape, x, outputs[4]);
        twin.forwardInference(shape, x, outputs[5]);
        for (int i = 0; i < 6; i += 2) {
            assertArrayEquals(outputs[i + 1], outputs[i], "output " + i / 2 + " of a step after a rejected call");
        }
        float[][] mine = TestData.wholeState(layer), theirs = TestData.wholeState(twin);
        for (int i = 0; i < mine.length; i++) {
            assertArrayEquals(theirs[i], mine[i], "state item " + i + " after a rejected call and a good step");
        }
    }

    private static BadCall badCall(Random random, Shape shape, BatchNorm layer) {
        int channels = shape.channels();
        int count = (int) shape.elementCount();
        float[] x = TestData.activations(random, shape, 0);
        float[] y = new float[count];
        float[] dy = TestData.gaussian(random, count);
        float poison = new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}[random.nextInt(3)];
        int at = random.nextInt(count);
        int atChannel = channelOf(shape, at);
        switch (random.nextInt(15)) {
            case 0: {
                x[at] = poison;
                return new BadCall("non-finite x in training", IllegalArgumentException.class,
                        "batch statistics of channel " + atChannel + " are not finite",
                        () -> layer.forwardTraining(shape, x, y));
            }
            case 1: {
                if (random.nextBoolean()) {
                    dy[at] = poison;
                } else {
                    x[at] = poison;
                }
                return new BadCall("non-finite x or dy in backward", IllegalArgumentException.class,
                        "gradients of channel " + atChannel + " are not finite", () -> layer.backward(shape, x, dy, y));
            }
            case 2: {
                Shape other = withChannels(shape, channels + 1 + random.nextInt(5));
                float[] big = new float[(int) other.elementCount()];
                return new BadCall("other channel count", IllegalArgumentException.class,
                        "channels but the layer has C=" + channels, randomOp(random, layer, other, big, big.clone()));
            }
            case 3: {
                int wrong = wrongLength(random, count);
                return new BadCall("x of the wrong length", IllegalArgumentException.class,
                        "x has " + wrong + " floats but shape " + shape + " has " + count,
                        randomOp(random, layer, shape, new float[wrong], y));
            }
            case 4: {
                int wrong = wrongLength(random, count);
                return new BadCall("y of the wrong length", IllegalArgumentException.class,
                        " has " + wrong + " floats but shape " + shape + " has " + count,
                        randomOp(random, layer, shape, x, new float[wrong]));
            }
            case 5: {
                int offset = -1 - random.nextInt(1000);
                return new BadCall("negative offset", IllegalArgumentException.class,
                        "x offset " + offset + " is negative", () -> layer.forwardInference(shape, x, offset, y, 0));
            }
            case 6: {
                int offset = 1 + random.nextInt(count + 3);
                return new BadCall("offset past the end", IllegalArgumentException.class,
                        "y is too short: shape " + shape + " needs " + count + " floats from offset " + offset,
                        () -> layer.forwardTraining(shape, x, 0, y, offset));
            }
            case 7: {
                float[] shared = new float[2 * count];
                int shift = 1 + random.nextInt(Math.max(1, count - 1));
                return new BadCall("partial overlap", IllegalArgumentException.class, "overlap in part",
                        () -> layer.forwardTraining(shape, shared, 0, shared, shift));
            }
            case 8: {
                Shape single = random.nextBoolean() ? Shape.nc(1, channels)
                        : random.nextBoolean() ? Shape.nchw(1, channels, 1, 1) : Shape.nhwc(1, 1, 1, channels);
                return new BadCall("one value per channel in training", IllegalArgumentException.class,
                        "Expected more than 1 value per channel when training",
                        () -> layer.forwardTraining(single, new float[channels], new float[channels]));
            }
            case 9: {
                int wrong = wrongLength(random, channels);
                return new BadCall("parameter of the wrong length", IllegalArgumentException.class,
                        "needs C=" + channels + " values, got " + wrong, randomSetter(random, layer, new float[wrong]));
            }
            case 10: {
                float[] values = TestData.uniform(random, channels, 0.5, 2);
                int c = random.nextInt(channels);
                values[c] = random.nextInt(4) == 0 ? -1 - random.nextFloat() : poison;
                boolean variance = values[c] < 0 || random.nextBoolean();
                Executable call = variance ? () -> layer.setRunningVar(values) : randomSetter(random, layer, values);
                return new BadCall("non-finite or negative parameter", IllegalArgumentException.class,
                        "at channel " + c + " must be finite", call);
            }
            case 11: {
                Shape other = otherShapeSameChannels(random, shape);
                float[] big = new float[(int) other.elementCount()];
                return new BadCall("backward of another shape", IllegalArgumentException.class,
                        "differs from the latest forward's " + shape,
                        () -> layer.backward(other, big, big.clone(), big.clone()));
            }
            case 12: {
                return badSetting(random, channels);
            }
            case 13: {
                return new BadCall("null array", IllegalArgumentException.class, "must not be null",
                        randomOp(random, layer, shape, random.nextBoolean() ? null : x, null));
            }
            default: {
                layer.close();
                return new BadCall("closed layer", IllegalStateException.class, "layer is closed",
                        randomOp(random, layer, shape, x, y));
            }
        }
    }

    private static BadCall badSetting(Random random, int channels) {
        double[] bad = {0, -random.nextDouble(), Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
            1 + 1e-6 + random.nextDouble()};
        double value = bad[random.nextInt(bad.length)];
        switch (random.nextInt(3)) {
            case 0:
                if (value > 1 && Double.isFinite(value)) {
                    value = -value; // eps above 1 is allowed
                }
                double eps = value;
                return new BadCall("bad eps", IllegalArgumentException.class, "eps must be a positive finite number",
                        () -> BatchNorm.builder(channels).eps(eps));
            case 1:
                double momentum = value == 0 ? -1e-9 : value;
                return new BadCall("bad momentum", IllegalArgumentException.class, "momentum must be in [0, 1]",
                        () -> BatchNorm.builder(channels).momentum(momentum));
            default:
                double decay = value == 0 ? 1.5 : value;
                return new BadCall("bad decay", IllegalArgumentException.class, "decay must be in [0, 1]",
                        () -> BatchNorm.builder(channels).decay(decay));
        }
    }

    /** Training forward, inference or backward with the given x and output (dy is x). */
    private static Executable randomOp(Random random, BatchNorm layer, Shape shape, float[] x, float[] out) {
        switch (random.nextInt(3)) {
            case 0:
                return () -> layer.forwardTraining(shape, x, out);
            case 1:
                return () -> layer.forwardInference(shape, x, out);
            default:
                return () -> layer.backward(shape, x, x, out);
        }
    }

    private static Executable randomSetter(Random random, BatchNorm layer, float[] values) {
        switch (random.nextInt(4)) {
            case 0:
                return () -> layer.setGamma(values);
            case 1:
                return () -> layer.setBeta(values);
            case 2:
                return () -> layer.setRunningMean(values);
            default:
                return () -> layer.setRunningVar(values);
        }
    }

    private static int wrongLength(Random random, int right) {
        int wrong;
        do {
            wrong = random.nextBoolean() ? random.nextInt(right) : right + 1 + random.nextInt(right + 5);
        } while (wrong == right);
        return wrong;
    }

    private static int channelOf(Shape shape, int index) {
        int channels = shape.channels();
        return shape.isChannelsLast() ? index % channels : (int) (index / shape.spatialSize() % channels);
    }

    private static Shape withChannels(Shape shape, int channels) {
        switch (shape.layout()) {
            case NC:
                return Shape.nc(shape.n(), channels);
            case NCHW:
                return Shape.nchw(shape.n(), channels, shape.height(), shape.width());
            default:
                return Shape.nhwc(shape.n(), shape.height(), shape.width(), channels);
        }
    }

    private static Shape otherShapeSameChannels(Random random, Shape shape) {
        int c = shape.channels();
        Shape other;
        do {
            int n = 1 + random.nextInt(5), h = 1 + random.nextInt(4), w = 1 + random.nextInt(4);
            switch (random.nextInt(3)) {
                case 0:
                    other = Shape.nc(n, c);
                    break;
                case 1:
                    other = Shape.nchw(n, c, h, w);
                    break;
                default:
                    other = Shape.nhwc(n, h, w, c);
            }
        } while (other.equals(shape));
        return other;
    }

    private static BatchNormBuilder randomSettings(Random random, int channels) {
        BatchNormBuilder builder = BatchNorm.builder(channels).eps(Math.pow(10, -1 - 5 * random.nextDouble()))
                .runningVariance(random.nextBoolean() ? VarianceEstimator.UNBIASED : VarianceEstimator.BIASED);
        switch (random.nextInt(3)) {
            case 0:
                return builder.cumulativeAverage();
            case 1:
                return builder.decay(random.nextDouble()).biasCorrection(random.nextBoolean());
            default:
                return builder.momentum(random.nextDouble());
        }
    }

    /** Shapes with at least 2 values per channel, so a good training step exists. */
    private static Shape randomShape(Random random) {
        Shape shape;
        do {
            shape = TestData.randomShape(random);
        } while (shape.valuesPerChannel() < 2);
        return shape;
    }
}

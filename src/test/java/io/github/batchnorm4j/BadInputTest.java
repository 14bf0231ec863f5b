package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every bad input gets a message that names the problem, and the layer's state stays as it was. */
class BadInputTest {
    private static final Shape SHAPE = Shape.nchw(2, 3, 2, 2);
    private BatchNorm layer;
    private float[] x;
    private float[] y;

    @BeforeEach
    void trainedLayer() {
        Random random = new Random(7);
        layer = BatchNorm.builder(3).build();
        x = TestData.activations(random, SHAPE, 1);
        y = new float[x.length];
        layer.forwardTraining(SHAPE, x, y);
        layer.backward(SHAPE, x, TestData.gaussian(random, x.length), new float[x.length]);
    }

    private <T extends Throwable> void rejects(Class<T> type, String messagePart, Executable call) {
        float[][] before = TestData.wholeState(layer);
        T error = assertThrows(type, call);
        assertTrue(error.getMessage().contains(messagePart),
                "message should contain '" + messagePart + "': " + error.getMessage());
        float[][] after = TestData.wholeState(layer);
        for (int i = 0; i < before.length; i++) {
            assertArrayEquals(before[i], after[i], "state item " + i + " changed by a rejected call");
        }
    }

    @Test
    void builderRejectsBadSettings() {
        assertMessage(() -> BatchNorm.builder(0), "channels must be positive, got 0");
        assertMessage(() -> BatchNorm.builder(-3), "channels must be positive, got -3");
        assertMessage(() -> BatchNorm.builder(3).eps(0), "eps must be a positive finite number, got 0.0");
        assertMessage(() -> BatchNorm.builder(3).eps(-1e-5), "eps must be a positive finite number");
        assertMessage(() -> BatchNorm.builder(3).eps(Double.NaN), "got NaN");
        assertMessage(() -> BatchNorm.builder(3).eps(Double.POSITIVE_INFINITY), "got Infinity");
        assertMessage(() -> BatchNorm.builder(3).momentum(1.5), "momentum must be in [0, 1]");
        assertMessage(() -> BatchNorm.builder(3).momentum(-0.1), "momentum must be in [0, 1]");
        assertMessage(() -> BatchNorm.builder(3).momentum(Double.NaN), "momentum must be in [0, 1]");
        assertMessage(() -> BatchNorm.builder(3).decay(1.01), "decay must be in [0, 1]");
        assertMessage(() -> BatchNorm.builder(3).decay(-0.5), "decay must be in [0, 1]");
        assertMessage(() -> BatchNorm.builder(3).cumulativeAverage().biasCorrection(true).build(),
                "cumulative average is unbiased already");
        assertMessage(() -> BatchNorm.builder(3).momentum(0).biasCorrection(true).build(), "needs momentum > 0");
        assertMessage(() -> BatchNorm.builder(3).runningVariance(null), "must not be null");
        assertMessage(() -> Shape.nchw(2, 3, 0, 4), "every dimension must be positive, got NCHW [2, 3, 0, 4]");
        assertMessage(() -> Shape.nc(-1, 3), "every dimension must be positive");
        assertMessage(() -> Shape.nhwc(1, 2, 2, 0), "every dimension must be positive");
    }

    private static void assertMessage(Executable call, String part) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, call);
        assertTrue(error.getMessage().contains(part), "message should contain '" + part + "': " + error.getMessage());
    }

    @Test
    void trainingWithOneValuePerChannelIsRefusedAsPyTorchSaysIt() {
        rejects(IllegalArgumentException.class,
                "Expected more than 1 value per channel when training, got input shape NC [1, 3]",
                () -> layer.forwardTraining(Shape.nc(1, 3), new float[3], new float[3]));
        rejects(IllegalArgumentException.class, "Expected more than 1 value per channel when training",
                () -> layer.forwardTraining(Shape.nchw(1, 3, 1, 1), new float[3], new float[3]));
        // Inference with one value per channel is the point of running statistics.
        layer.forwardInference(Shape.nc(1, 3), new float[3], new float[3]);
    }

    @Test
    void shapeAndLengthMismatchesNameTheShapes() {
        rejects(IllegalArgumentException.class, "input NCHW [2, 4, 2, 2] has C=4 channels but the layer has C=3",
                () -> layer.forwardTraining(Shape.nchw(2, 4, 2, 2), new float[32], new float[32]));
        rejects(IllegalArgumentException.class, "x has 23 floats but shape NCHW [2, 3, 2, 2] has 24",
                () -> layer.forwardTraining(SHAPE, new float[23], new float[24]));
        rejects(IllegalArgumentException.class, "y has 25 floats but shape NCHW [2, 3, 2, 2] has 24",
                () -> layer.forwardInference(SHAPE, new float[24], new float[25]));
        rejects(IllegalArgumentException.class, "y is too short: shape NCHW [2, 3, 2, 2] needs 24 floats from offset 5",
                () -> layer.forwardTraining(SHAPE, new float[24], 0, new float[28], 5));
        rejects(IllegalArgumentException.class, "x offset -1 is negative",
                () -> layer.forwardTraining(SHAPE, x, -1, y, 0));
        rejects(IllegalArgumentException.class, "x must not be null", () -> layer.forwardTraining(SHAPE, null, y));
        rejects(IllegalArgumentException.class, "shape must not be null",
                () -> layer.forwardTraining(null, x, 0, y, 0));
        rejects(IllegalArgumentException.class, "x is too short: shape NCHW [2, 3, 2, 2] needs 24 floats, the buffer has 10",
                () -> layer.forwardTraining(SHAPE, FloatBuffer.allocate(10), FloatBuffer.allocate(24)));
        rejects(IllegalArgumentException.class, "y is a read-only buffer",
                () -> layer.forwardTraining(SHAPE, FloatBuffer.wrap(x), FloatBuffer.allocate(24).asReadOnlyBuffer()));
    }

    @Test
    void partialOverlapOfInputAndOutputIsRefused() {
        float[] shared = new float[40];
        rejects(IllegalArgumentException.class, "input and output overlap in part (offsets 0 and 3, 24 floats)",
                () -> layer.forwardTraining(SHAPE, shared, 0, shared, 3));
        rejects(IllegalArgumentException.class, "input and output overlap in part (offsets 2 and 9, 24 floats)",
                () -> layer.forwardInference(SHAPE, FloatBuffer.wrap(shared).position(2),
                        FloatBuffer.wrap(shared).position(9)));
    }

    @Test
    void backwardNeedsTheLatestForwardsShape() {
        float[] dx = new float[x.length];
        rejects(IllegalArgumentException.class, "backward shape NHWC [2, 2, 2, 3] differs from the latest forward's NCHW [2, 3, 2, 2]",
                () -> layer.backward(Shape.nhwc(2, 2, 2, 3), x, y, dx));
        try (BatchNorm fresh = BatchNorm.builder(3).build()) {
            IllegalStateException error = assertThrows(IllegalStateException.class,
                    () -> fresh.backward(SHAPE, x, y, dx));
            assertTrue(error.getMessage().contains("backward needs a forward first"), error.getMessage());
        }
    }

    @Test
    void nonFiniteBatchDoesNotPoisonRunningStatistics() {
        float[] bad = x.clone();
        bad[5] = Float.NaN; // n 0, channel 1, position 1 of NCHW [2, 3, 2, 2]
        rejects(IllegalArgumentException.class, "batch statistics of channel 1 are not finite",
                () -> layer.forwardTraining(SHAPE, bad, new float[bad.length]));
        float[] inf = x.clone();
        inf[13] = Float.POSITIVE_INFINITY;
        rejects(IllegalArgumentException.class, "running statistics left unchanged",
                () -> layer.forwardTraining(SHAPE, inf, new float[inf.length]));
        float[] huge = x.clone();
        huge[0] = 3e38f;
        huge[1] = -3e38f;
        // Finite input whose differences exceed float's range (the sums take x - k in float):
        // refused rather than stored as Infinity.
        rejects(IllegalArgumentException.class, "batch statistics of channel 0 are not finite",
                () -> layer.forwardTraining(SHAPE, huge, new float[huge.length]));
        // And the next good step works.
        layer.forwardTraining(SHAPE, x, y);
        assertEquals(2, layer.numBatchesTracked());
    }

    @Test
    void nonFiniteGradientInputsLeaveTheGradientsAsTheyWere() {
        float[] dx = new float[x.length];
        float[] dy = TestData.gaussian(new Random(8), x.length);
        dy[6] = Float.NaN; // n 0, channel 1
        rejects(IllegalArgumentException.class, "gradients of channel 1 are not finite",
                () -> layer.backward(SHAPE, x, dy, dx));
        dy[6] = 0;
        float[] inf = x.clone();
        inf[20] = Float.NEGATIVE_INFINITY; // n 1, channel 2
        rejects(IllegalArgumentException.class, "gradients of channel 2 are not finite",
                () -> layer.backward(SHAPE, inf, dy, dx));
        layer.backward(SHAPE, x, dy, dx); // and the next good one works
        for (float v : layer.gammaGradient()) {
            assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void settersRejectWrongLengthsAndValues() {
        rejects(IllegalArgumentException.class, "gamma needs C=3 values, got 2", () -> layer.setGamma(new float[2]));
        rejects(IllegalArgumentException.class, "beta value NaN at channel 1 must be finite",
                () -> layer.setBeta(new float[] {0, Float.NaN, 0}));
        rejects(IllegalArgumentException.class, "running variance value -1.0 at channel 2 must be finite and non-negative",
                () -> layer.setRunningVar(new float[] {1, 1, -1}));
        rejects(IllegalArgumentException.class, "running mean value Infinity at channel 0",
                () -> layer.setRunningMean(new float[] {Float.POSITIVE_INFINITY, 0, 0}));
        rejects(IllegalArgumentException.class, "num_batches_tracked must be >= 0, got -1",
                () -> layer.setNumBatchesTracked(-1));
    }

    @Test
    void aClosedLayerRefusesEveryCallAndClosingTwiceIsHarmless() {
        layer.close();
        layer.close();
        for (Executable call : new Executable[] {
                () -> layer.forwardTraining(SHAPE, x, y), () -> layer.forwardInference(SHAPE, x, y),
                () -> layer.backward(SHAPE, x, y, new float[x.length]), () -> layer.runningMean(),
                () -> layer.setGamma(new float[3]), () -> layer.save(java.nio.file.Path.of("unused.npz"))}) {
            IllegalStateException error = assertThrows(IllegalStateException.class, call);
            assertEquals("layer is closed", error.getMessage());
        }
    }

    @Test
    void missingFeaturesAreNamed() {
        try (BatchNorm plain = BatchNorm.builder(3).affine(false).trackRunningStats(false).build()) {
            assertTrue(assertThrows(IllegalStateException.class, plain::gamma).getMessage().contains("affine(false)"));
            assertTrue(assertThrows(IllegalStateException.class, plain::runningVar).getMessage()
                    .contains("trackRunningStats(false)"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> plain.forwardInference(Shape.nc(1, 3), new float[3], new float[3])).getMessage()
                    .contains("Expected more than 1 value per channel"));
        }
    }
}

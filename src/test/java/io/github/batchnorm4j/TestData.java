package io.github.batchnorm4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded random inputs and the sweep of awkward shapes the tests share. */
public final class TestData {
    /**
     * The JUnit tag of tests that need a CUDA device: Maven runs them in the emulated-GPU fork (and
     * on a real GPU where one is present), never in the plain fork, where they could only skip.
     */
    public static final String GPU = "gpu";

    private TestData() {
    }

    /** Values with a random mean (around {@code offset}) and a random std in [0.5, 2] per channel. */
    static float[] activations(Random random, Shape s, double offset) {
        int channels = s.channels();
        double[] mean = new double[channels];
        double[] std = new double[channels];
        for (int c = 0; c < channels; c++) {
            mean[c] = offset + random.nextGaussian() * 3;
            std[c] = 0.5 + 1.5 * random.nextDouble();
        }
        float[] x = new float[Math.toIntExact(s.elementCount())];
        for (int n = 0; n < s.n(); n++) {
            for (int c = 0; c < channels; c++) {
                for (int h = 0; h < s.height(); h++) {
                    for (int w = 0; w < s.width(); w++) {
                        x[Float64Reference.index(s, n, c, h, w)] = (float) (mean[c] + std[c] * random.nextGaussian());
                    }
                }
            }
        }
        return x;
    }

    /** A random NC, NCHW or NHWC shape, small or up to 40 x 130 x 7 x 7; m = 1 included. */
    static Shape randomShape(Random random) {
        int n = 1 + random.nextInt(random.nextBoolean() ? 3 : 40);
        int c = 1 + random.nextInt(random.nextBoolean() ? 8 : 130);
        int h = 1 + random.nextInt(7), w = 1 + random.nextInt(7);
        switch (random.nextInt(3)) {
            case 0:
                return Shape.nc(n, c);
            case 1:
                return Shape.nchw(n, c, h, w);
            default:
                return Shape.nhwc(n, h, w, c);
        }
    }

    /** Everything an affine, tracking layer holds, for bitwise before/after comparisons. */
    static float[][] wholeState(BatchNorm layer) {
        return new float[][] {layer.gamma(), layer.beta(), layer.runningMean(), layer.runningVar(),
                {layer.numBatchesTracked()}, layer.savedMean(), layer.savedInvStd(), layer.gammaGradient(),
                layer.betaGradient()};
    }

    static float[] gaussian(Random random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    static float[] uniform(Random random, int length, double low, double high) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) (low + (high - low) * random.nextDouble());
        }
        return values;
    }

    /**
     * C in {1, 3, 7, 64, 65} times m in {2, 7, 65, 1009} in every layout; NCHW both as N runs of
     * H*W and with the values spread over N.
     */
    public static List<Shape> awkwardShapes() {
        List<Shape> shapes = new ArrayList<>();
        int[] channels = {1, 3, 7, 64, 65};
        for (int c : channels) {
            shapes.add(Shape.nc(2, c));
            shapes.add(Shape.nc(7, c));
            shapes.add(Shape.nc(65, c));
            shapes.add(Shape.nc(1009, c));
            shapes.add(Shape.nchw(1, c, 1, 2));
            shapes.add(Shape.nchw(1, c, 7, 1));
            shapes.add(Shape.nchw(7, c, 1, 1));
            shapes.add(Shape.nchw(5, c, 13, 1));
            shapes.add(Shape.nchw(13, c, 1, 5));
            shapes.add(Shape.nchw(1, c, 1009, 1));
            shapes.add(Shape.nhwc(2, 1, 1, c));
            shapes.add(Shape.nhwc(1, 7, 1, c));
            shapes.add(Shape.nhwc(5, 1, 13, c));
            shapes.add(Shape.nhwc(1, 1009, 1, c));
        }
        return shapes;
    }

    /**
     * Shapes past one work chunk, so statistics come from several merged partials: channels-first
     * channels of more than 65536 values, channels-last tensors of more than 65536 values, and more
     * than one block of channels.
     */
    public static List<Shape> multiChunkShapes() {
        return List.of(
                Shape.nchw(3, 2, 200, 151),     // m = 90600: 2 chunks per channel, fused forward
                Shape.nchw(3, 2, 211, 211),     // m = 133563: 3 chunks, too large to fuse
                Shape.nchw(2, 3, 32771, 1),     // a prime run longer than a chunk
                Shape.nc(1009, 70),             // training: all rows, 2 channel blocks; inference: 2 row chunks
                Shape.nhwc(4, 131, 127, 3),     // m = 66548 rows of 3
                Shape.nc(67, 2111),             // training: all rows, 16 channel blocks; inference: 3 x 3
                Shape.nc(2053, 1031),           // 33 row chunks x 2 channel blocks, unfused
                Shape.nc(70001, 1));            // C = 1, a long column
    }
}

package io.github.batchnorm4j;

import io.github.batchnorm4j.internal.HostArguments;
import io.github.batchnorm4j.internal.LayerCore;
import io.github.batchnorm4j.internal.cpu.BatchMoments;
import io.github.batchnorm4j.sync.Collective;
import io.github.batchnorm4j.sync.CollectiveException;
import io.github.batchnorm4j.sync.WorldOfOne;

/**
 * Synchronized batch norm: a layer whose training statistics are those of every worker's batch
 * together, as PyTorch's SyncBatchNorm. Each worker holds one such layer (same settings, same
 * starting state) and makes the same calls in the same order; the {@link Collective} joins them.
 *
 * <p>Forward gathers each worker's per-channel (count, mean, M2), exact in fp64, and Chan-merges
 * them in rank order, so every worker normalizes with bitwise the same statistics and keeps
 * bitwise the same running averages. Counts may differ between workers; a worker with no values
 * in a step joins it with {@link #forwardTrainingEmpty} (and {@link #backwardEmpty}). Backward
 * all-reduces sum(dy) and sum(dy * (x - mean)) per channel, so gamma's and beta's gradients are
 * the whole batch's on every worker.
 *
 * <p>A step that fails anywhere fails everywhere, with every layer's state unchanged: a worker's
 * NaN or Inf, or a worker that left or did not answer ({@link CollectiveException}, naming the
 * missing ranks). Inference is local: {@link #layer()}'s {@code forwardInference}. On the CUDA
 * backend each step brings the layer's C-sized state to the host and back (the statistics are
 * merged there), host arrays only.
 */
public final class SyncBatchNorm {
    private final BatchNorm layer;
    private final LayerCore core;
    private final Collective collective;
    private final int channels;
    /** The latest forward's count over all workers, and whether this worker's share was empty. */
    private long lastCount;
    private boolean lastEmpty;
    private Shape lastShape;

    /** A layer in a world of one ({@link WorldOfOne}): the plain layer's results, within rounding. */
    public SyncBatchNorm(BatchNorm layer) {
        this(layer, new WorldOfOne());
    }

    public SyncBatchNorm(BatchNorm layer, Collective collective) {
        this.layer = layer;
        this.core = layer.core();
        this.collective = collective;
        this.channels = layer.config().channels();
    }

    /** The local layer: its state, inference, accessors. */
    public BatchNorm layer() {
        return layer;
    }

    public Collective collective() {
        return collective;
    }

    /**
     * Training forward of this worker's batch (exactly {@code shape.elementCount()} floats). The
     * layer is claimed for the whole step, the collective included.
     */
    public void forwardTraining(Shape shape, float[] x, float[] y) {
        core.enterStep(shape);
        try {
            HostArguments.exact("x", x, shape);
            HostArguments.exact("y", y, shape);
            double[] mean = new double[channels], m2 = new double[channels];
            int bad = BatchMoments.compute(shape, x, 0, mean, m2);
            Merged merged = gather(shape.valuesPerChannel(), bad, mean, m2);
            core.forwardWithStatistics(shape, x, y, merged.mean, merged.variance, merged.count);
            remember(merged.count, false, shape);
        } finally {
            core.exit();
        }
    }

    /** Joins a training step with no values of this worker's own; the state changes as the others' does. */
    public void forwardTrainingEmpty() {
        core.enterStep(null);
        try {
            Merged merged = gather(0, -1, new double[channels], new double[channels]);
            core.commitEmptyForward(merged.mean, merged.variance, merged.count);
            remember(merged.count, true, null);
        } finally {
            core.exit();
        }
    }

    /** Backward of the latest {@link #forwardTraining}, with this worker's x and dy. */
    public void backward(Shape shape, float[] x, float[] dy, float[] dx) {
        core.enterStep(shape);
        try {
            if (lastEmpty || !shape.equals(lastShape)) {
                throw new IllegalStateException("backward needs the latest synchronized forward's shape, "
                        + (lastEmpty ? "but it was empty: use backwardEmpty" : lastShape + ", got " + shape));
            }
            HostArguments.exact("x", x, shape);
            HostArguments.exact("dy", dy, shape);
            HostArguments.exact("dx", dx, shape);
            double[] sumDy = new double[channels], sumDyCentered = new double[channels];
            BatchMoments.gradientSums(shape, x, 0, dy, 0, core.savedMeanExact(), sumDy, sumDyCentered);
            double[] total = collective.allReduceSum(concat(sumDy, sumDyCentered));
            System.arraycopy(total, 0, sumDy, 0, channels);
            System.arraycopy(total, channels, sumDyCentered, 0, channels);
            core.backwardWithSums(shape, x, dy, dx, sumDy, sumDyCentered, lastCount);
        } finally {
            core.exit();
        }
    }

    /** Joins a backward step after {@link #forwardTrainingEmpty}: the gradients become the whole batch's. */
    public void backwardEmpty() {
        core.enterStep(null);
        try {
            if (!lastEmpty) {
                throw new IllegalStateException("backwardEmpty follows forwardTrainingEmpty; the latest forward had "
                        + lastShape);
            }
            double[] total = collective.allReduceSum(new double[2 * channels]);
            double[] sumDy = new double[channels], sumDyCentered = new double[channels];
            System.arraycopy(total, 0, sumDy, 0, channels);
            System.arraycopy(total, channels, sumDyCentered, 0, channels);
            core.commitEmptyBackward(sumDy, sumDyCentered);
        } finally {
            core.exit();
        }
    }

    private void remember(long count, boolean empty, Shape shape) {
        lastCount = count;
        lastEmpty = empty;
        lastShape = shape;
    }

    /** The whole batch's statistics, merged in rank order; every worker throws alike on bad input. */
    private record Merged(double[] mean, double[] variance, long count) {
    }

    private Merged gather(long count, int bad, double[] mean, double[] m2) {
        double[] mine = new double[2 + 2 * channels];
        mine[0] = count;
        mine[1] = bad;
        System.arraycopy(mean, 0, mine, 2, channels);
        System.arraycopy(m2, 0, mine, 2 + channels, channels);
        double[][] all = collective.allGather(mine);
        for (int r = 0; r < all.length; r++) {
            if (all[r].length != mine.length) {
                throw new IllegalArgumentException("rank " + r + " has C=" + (all[r].length - 2) / 2 + " but rank "
                        + collective.rank() + " has C=" + channels + "; no rank changed its state");
            }
            if (all[r][1] >= 0) {
                throw new IllegalArgumentException("rank " + r + "'s batch holds a NaN or an infinity in channel "
                        + (int) all[r][1] + "; no rank changed its state");
            }
        }
        double[] totalMean = new double[channels], totalM2 = new double[channels];
        long total = 0;
        double[] rankMean = new double[channels], rankM2 = new double[channels];
        for (double[] part : all) {
            long n = (long) part[0];
            System.arraycopy(part, 2, rankMean, 0, channels);
            System.arraycopy(part, 2 + channels, rankM2, 0, channels);
            BatchMoments.merge(totalMean, totalM2, total, rankMean, rankM2, n);
            total += n;
        }
        if (total < 2) {
            throw new IllegalArgumentException("the synchronized batch has " + total + " value(s) per channel over "
                    + all.length + " rank(s); training needs more than 1; no rank changed its state");
        }
        double[] variance = new double[channels];
        for (int c = 0; c < channels; c++) {
            variance[c] = Math.max(totalM2[c], 0) / total;
        }
        return new Merged(totalMean, variance, total);
    }

    private static double[] concat(double[] a, double[] b) {
        double[] both = new double[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}

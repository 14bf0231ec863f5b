package io.github.batchnorm4j.sync;

/** The collective of a single worker: every gather returns its own values. The default. */
public final class WorldOfOne implements Collective {
    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int worldSize() {
        return 1;
    }

    @Override
    public double[][] allGather(double[] values) {
        return new double[][] {values.clone()};
    }

    @Override
    public void close() {
    }
}

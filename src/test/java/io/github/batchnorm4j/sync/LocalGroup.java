package io.github.batchnorm4j.sync;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Workers that are threads of one JVM, for testing what runs on top of a {@link Collective}
 * without a network: each step every rank puts its values in a slot, waits for all, copies all.
 */
public final class LocalGroup {
    private final int world;
    private final double[][] slots;
    private final CyclicBarrier written;
    private final CyclicBarrier read;

    public LocalGroup(int world) {
        this.world = world;
        this.slots = new double[world][];
        this.written = new CyclicBarrier(world);
        this.read = new CyclicBarrier(world);
    }

    public Collective member(int rank) {
        return new Collective() {
            @Override
            public int rank() {
                return rank;
            }

            @Override
            public int worldSize() {
                return world;
            }

            @Override
            public double[][] allGather(double[] values) {
                try {
                    slots[rank] = values.clone();
                    written.await(30, TimeUnit.SECONDS);
                    double[][] all = new double[world][];
                    for (int r = 0; r < world; r++) {
                        all[r] = slots[r].clone();
                    }
                    read.await(30, TimeUnit.SECONDS);
                    return all;
                } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                    throw new CollectiveException("local group step failed: " + e, new int[0]);
                }
            }

            @Override
            public void close() {
            }
        };
    }
}

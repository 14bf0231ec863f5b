package io.github.batchnorm4j.emulator;

/**
 * The order in which a launch's threads run. {@link #DETERMINISTIC}: blocks one at a time in
 * order, the block's threads round-robin in order, each until it waits (bar.sync, a warp
 * collective), exits, or has run a slice of instructions. A seeded schedule shuffles the block
 * order, keeps up to four blocks resident at once, and interleaves random warps of random
 * resident blocks in slices of random length, so that a protocol between blocks (a last block to
 * finish, a counter reset) meets other orders; the same seed always gives the same run.
 */
public final class Schedule {
    public static final Schedule DETERMINISTIC = new Schedule();

    private final boolean seeded;
    private final long seed;

    private Schedule() {
        this.seeded = false;
        this.seed = 0;
    }

    public Schedule(long seed) {
        this.seeded = true;
        this.seed = seed;
    }

    public boolean isSeeded() {
        return seeded;
    }

    public long seed() {
        return seed;
    }

    @Override
    public String toString() {
        return seeded ? "Schedule(seed " + seed + ")" : "Schedule.DETERMINISTIC";
    }
}

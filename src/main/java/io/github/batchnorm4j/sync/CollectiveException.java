package io.github.batchnorm4j.sync;

import java.util.Arrays;

/** A collective step that could not complete; {@link #missingRanks} names who was not heard from. */
public final class CollectiveException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int[] missingRanks;

    public CollectiveException(String message, int[] missingRanks) {
        super(message);
        this.missingRanks = missingRanks.clone();
    }

    /** The ranks that left or did not answer, in order; empty when the failure is of another kind. */
    public int[] missingRanks() {
        return missingRanks.clone();
    }

    @Override
    public String toString() {
        return super.toString() + (missingRanks.length == 0 ? "" : " (missing ranks " + Arrays.toString(missingRanks)
                + ")");
    }
}

package io.github.batchnorm4j.sync;

/**
 * The collective operations that synchronized batch norm needs from a group of workers (ranks 0
 * to world - 1). Every rank makes the same calls in the same order; each call is one numbered step
 * that every rank joins, so a late message of an earlier step is never taken for a later one.
 * A step that cannot complete (a rank left, or did not answer in time) throws
 * {@link CollectiveException} naming the missing ranks on every rank still there; the collective
 * is then broken and every later call throws too.
 */
public interface Collective extends AutoCloseable {
    /** This worker's rank, from 0. */
    int rank();

    /** How many ranks take part. */
    int worldSize();

    /**
     * Every rank's {@code values} for the next step, indexed by rank (this rank's own included).
     * Ranks may send arrays of different lengths.
     */
    double[][] allGather(double[] values);

    /**
     * The element-wise sum of every rank's {@code values} (all of one length), added in rank order,
     * so every rank gets bitwise the same result.
     */
    default double[] allReduceSum(double[] values) {
        double[][] all = allGather(values);
        double[] sum = new double[values.length];
        for (int r = 0; r < all.length; r++) {
            if (all[r].length != values.length) {
                throw new CollectiveException("all-reduce: rank " + r + " sent " + all[r].length + " values, rank "
                        + rank() + " " + values.length, new int[0]);
            }
            for (int i = 0; i < sum.length; i++) {
                sum[i] += all[r][i];
            }
        }
        return sum;
    }

    /** Leaves the group; the other ranks' current or next step then fails naming this rank. */
    @Override
    void close();
}

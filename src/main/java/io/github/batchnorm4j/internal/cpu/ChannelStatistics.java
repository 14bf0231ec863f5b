package io.github.batchnorm4j.internal.cpu;

/**
 * Chan's merge of partial per-channel statistics (count, mean, M2 = sum of squared deviations).
 * Partials come from fixed chunks of a channel's values and are merged in chunk order, so the
 * result does not depend on how many threads computed them.
 */
final class ChannelStatistics {
    private ChannelStatistics() {
    }

    /**
     * Merges partial b into partial a (both at index {@code a}/{@code b} of the arrays) and
     * returns nothing; the merged count is {@code countA + countB}. Safe when both counts are 0.
     */
    static void mergeInto(double[] mean, double[] m2, int a, long countA, int b, long countB) {
        mergeInto(mean, m2, a, countA, mean[b], m2[b], countB);
    }

    /** The same merge with partial b given by value: (meanB, m2B) over {@code countB} values. */
    static void mergeInto(double[] mean, double[] m2, int a, long countA, double meanB, double m2B, long countB) {
        long count = countA + countB;
        if (countB == 0) {
            return;
        }
        if (countA == 0) {
            mean[a] = meanB;
            m2[a] = m2B;
            return;
        }
        double delta = meanB - mean[a];
        double weightB = (double) countB / count;
        mean[a] += delta * weightB;
        m2[a] += m2B + delta * delta * countA * weightB;
    }

    /**
     * Turns sums of shifted values, s1 = sum(z - k) and s2 = sum((z - k)^2) over {@code count}
     * values, into (mean, M2) at index {@code i}. The shift k is one of the values themselves,
     * which bounds |mean - k| by sqrt(count) standard deviations and keeps the fp64 cancellation in
     * s2 - s1^2/n harmless for any float32 input.
     */
    static void fromShiftedSums(double[] s1ToMean, double[] s2ToM2, int i, long count, double shift) {
        double s1 = s1ToMean[i];
        double m2 = s2ToM2[i] - s1 * (s1 / count);
        s1ToMean[i] = shift + s1 / count;
        s2ToM2[i] = Math.max(m2, 0.0);
    }
}

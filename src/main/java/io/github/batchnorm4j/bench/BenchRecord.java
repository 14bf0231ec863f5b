package io.github.batchnorm4j.bench;

import io.github.batchnorm4j.DeviceBatchNorm;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One figure: the median time of an op on a shape and backend, its GB/s at the floor's pass count,
 * the same device's scale-copy bandwidth measured on the same bytes in the same run, and the peer's
 * time where a peer ran (peer null and peerSeconds NaN otherwise). With several rounds (ours and
 * the peer alternating), the times are the medians of the rounds and the ranges their extremes.
 */
public record BenchRecord(BenchOp op, BenchCase benchCase, String backend, double seconds, double copyGbps,
        String peer, double peerSeconds, int rounds, double secondsMin, double secondsMax, double peerSecondsMin,
        double peerSecondsMax, DeviceBatchNorm.DriverCalls perCall) {

    /** A figure of one round; {@code perCall}: the driver calls of one call (CUDA), else null. */
    public BenchRecord(BenchOp op, BenchCase benchCase, String backend, double seconds, double copyGbps, String peer,
            double peerSeconds, DeviceBatchNorm.DriverCalls perCall) {
        this(op, benchCase, backend, seconds, copyGbps, peer, peerSeconds, 1, seconds, seconds, peerSeconds,
                peerSeconds, perCall);
    }

    /**
     * The figure of several rounds of one op and case: median time and copy bandwidth, median peer
     * time over the rounds where the peer answered. {@code peerSeconds} holds NaN for a round
     * without a peer time.
     */
    public static BenchRecord ofRounds(List<BenchRecord> ours, String peer, double[] peerSeconds) {
        double[] seconds = ours.stream().mapToDouble(BenchRecord::seconds).sorted().toArray();
        double[] copy = ours.stream().mapToDouble(BenchRecord::copyGbps).sorted().toArray();
        double[] peerTimes = Arrays.stream(peerSeconds).filter(Double::isFinite).sorted().toArray();
        BenchRecord first = ours.get(0);
        boolean hasPeer = peer != null && peerTimes.length > 0;
        return new BenchRecord(first.op(), first.benchCase(), first.backend(), median(seconds), median(copy),
                hasPeer ? peer : null, hasPeer ? median(peerTimes) : Double.NaN, ours.size(), seconds[0],
                seconds[seconds.length - 1], hasPeer ? peerTimes[0] : Double.NaN,
                hasPeer ? peerTimes[peerTimes.length - 1] : Double.NaN, first.perCall());
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** GB/s (1e9 bytes) at the floor: passes times the tensor's bytes over the time. */
    public double gbps() {
        return op.passes * (double) benchCase.bytes() / seconds / 1e9;
    }

    /** Our bandwidth as a fraction of the copy ceiling. */
    public double copyRatio() {
        return gbps() / copyGbps;
    }

    /** Peer time over ours: above 1 means we are faster. NaN without a peer. */
    public double speedupOverPeer() {
        return peerSeconds / seconds;
    }

    public boolean hasPeer() {
        return peer != null && Double.isFinite(peerSeconds);
    }

    /** The record as a JSON object; fields as issue 5 lists them, plus copy_ratio and elements. */
    public String toJson() {
        StringBuilder s = new StringBuilder("{");
        s.append("\"op\": \"").append(op.key).append("\", ");
        s.append("\"layout\": \"").append(benchCase.layout()).append("\", ");
        s.append("\"shape\": [");
        int[] sizes = benchCase.sizes();
        for (int i = 0; i < sizes.length; i++) {
            s.append(i == 0 ? "" : ", ").append(sizes[i]);
        }
        s.append("], ");
        s.append("\"backend\": \"").append(backend).append("\", ");
        s.append("\"seconds\": ").append(number(seconds)).append(", ");
        s.append("\"gbps\": ").append(number(gbps())).append(", ");
        s.append("\"copy_gbps\": ").append(number(copyGbps)).append(", ");
        s.append("\"copy_ratio\": ").append(number(copyRatio())).append(", ");
        s.append("\"passes\": ").append(op.passes);
        if (perCall != null) {
            s.append(", \"launches\": ").append(perCall.launches());
            s.append(", \"syncs\": ").append(perCall.synchronizations());
            s.append(", \"copies\": ").append(perCall.copies());
        }
        if (hasPeer()) {
            s.append(", \"peer\": \"").append(peer.replace("\\", "\\\\").replace("\"", "\\\"")).append("\", ");
            s.append("\"peer_seconds\": ").append(number(peerSeconds));
        }
        if (rounds > 1) {
            s.append(", \"rounds\": ").append(rounds);
            s.append(", \"seconds_min\": ").append(number(secondsMin));
            s.append(", \"seconds_max\": ").append(number(secondsMax));
            if (hasPeer()) {
                s.append(", \"peer_seconds_min\": ").append(number(peerSecondsMin));
                s.append(", \"peer_seconds_max\": ").append(number(peerSecondsMax));
            }
        }
        return s.append('}').toString();
    }

    private static String number(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }
}

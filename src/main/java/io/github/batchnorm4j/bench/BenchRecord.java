package io.github.batchnorm4j.bench;

import java.util.Locale;

/**
 * One figure: the median time of an op on a shape and backend, its GB/s at the floor's pass count,
 * the same device's scale-copy bandwidth measured on the same bytes in the same run, and the peer's
 * time where a peer ran (peer null and peerSeconds NaN otherwise).
 */
public record BenchRecord(BenchOp op, BenchCase benchCase, String backend, double seconds, double copyGbps,
        String peer, double peerSeconds) {

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

    public BenchRecord withPeer(String name, double time) {
        return new BenchRecord(op, benchCase, backend, seconds, copyGbps, name, time);
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
        if (hasPeer()) {
            s.append(", \"peer\": \"").append(peer.replace("\\", "\\\\").replace("\"", "\\\"")).append("\", ");
            s.append("\"peer_seconds\": ").append(number(peerSeconds));
        }
        return s.append('}').toString();
    }

    private static String number(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }
}

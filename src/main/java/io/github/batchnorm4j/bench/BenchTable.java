package io.github.batchnorm4j.bench;

import java.util.Locale;

/** The terminal table: one row per figure, printed as each is measured. */
final class BenchTable {
    static String header() {
        return String.format(Locale.ROOT, "%-22s %-13s %11s %8s %8s %6s %12s %8s  %s", "shape", "op", "time", "GB/s",
                "copy", "ratio", "peer time", "speedup", "per call");
    }

    static String row(BenchRecord r) {
        return String.format(Locale.ROOT, "%-22s %-13s %11s %8.1f %8.1f %5.0f%% %12s %8s", r.benchCase().label(),
                r.op().key, time(r.seconds()), r.gbps(), r.copyGbps(), 100 * r.copyRatio(),
                r.hasPeer() ? time(r.peerSeconds()) : "-",
                r.hasPeer() ? String.format(Locale.ROOT, "%.2fx", r.speedupOverPeer()) : "-")
                + (r.perCall() == null ? "" : "  " + r.perCall());
    }

    /** Seconds in the unit that keeps three or four significant digits readable. */
    static String time(double seconds) {
        if (seconds >= 1) {
            return String.format(Locale.ROOT, "%.3f s", seconds);
        }
        if (seconds >= 1e-3) {
            return String.format(Locale.ROOT, "%.3f ms", seconds * 1e3);
        }
        return String.format(Locale.ROOT, "%.3f us", seconds * 1e6);
    }
}

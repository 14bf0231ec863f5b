package io.github.batchnorm4j.emulator;

import io.github.batchnorm4j.bench.BenchCase;
import java.util.List;
import java.util.Locale;

/** The records of {@link GpuModel} as a JSON array, one object per operation, api and shape. */
final class GpuModelJson {
    private GpuModelJson() {
    }

    static String of(List<GpuModel.CallRecord> records) {
        StringBuilder s = new StringBuilder("[\n");
        for (int i = 0; i < records.size(); i++) {
            s.append(object(records.get(i))).append(i + 1 < records.size() ? ",\n" : "\n");
        }
        return s.append("]\n").toString();
    }

    private static String object(GpuModel.CallRecord r) {
        EmulatedGpu.Counters n = r.counters();
        long floor = CostModel.floorBytes(r.op(), r.shape());
        StringBuilder s = new StringBuilder("  {");
        field(s, "figures", "\"modeled\"");
        field(s, "op", quote(r.op().key()));
        field(s, "layout", quote(r.modelCase().run().layout().name()));
        field(s, "shape", sizes(r.modelCase().run()));
        BenchCase from = r.modelCase().scaledFrom();
        field(s, "scaled_from", from == null ? "null" : sizes(from));
        field(s, "api", quote(r.api()));
        field(s, "elements", Long.toString(r.shape().elementCount()));
        field(s, "launches", Long.toString(n.launches()));
        field(s, "syncs", Long.toString(n.synchronizations()));
        field(s, "h2d_copies", Long.toString(n.hostToDevice()));
        field(s, "d2h_copies", Long.toString(n.deviceToHost()));
        field(s, "h2d_bytes", Long.toString(n.hostToDeviceBytes()));
        field(s, "d2h_bytes", Long.toString(n.deviceToHostBytes()));
        field(s, "d2d_copies", Long.toString(n.deviceToDevice()));
        field(s, "memsets", Long.toString(n.memsets()));
        field(s, "device_allocations", Long.toString(n.allocations()));
        field(s, "dram_bytes", Long.toString(r.dramBytes()));
        field(s, "floor_bytes", Long.toString(floor));
        field(s, "dram_over_floor", number((double) r.dramBytes() / floor));
        field(s, "sector_efficiency", number(r.sectorEfficiency()));
        field(s, "int_divrem_per_element", number(r.perElement(LaunchStatistics::integerDivisions)));
        field(s, "instructions_per_element", number(r.perElement(LaunchStatistics::instructions)));
        field(s, "instructions_per_element_by_class", "{\"fp32\": "
                + number(r.perElement(LaunchStatistics::fp32Instructions)) + ", \"fp64\": "
                + number(r.perElement(LaunchStatistics::fp64Instructions)) + ", \"integer\": "
                + number(r.perElement(LaunchStatistics::integerInstructions)) + ", \"memory\": "
                + number(r.perElement(LaunchStatistics::memoryInstructions)) + ", \"control\": "
                + number(r.perElement(LaunchStatistics::controlInstructions)) + ", \"other\": "
                + number(r.perElement(LaunchStatistics::otherInstructions)) + "}");
        field(s, "modeled_seconds", number(CostModel.seconds(r.launches())));
        field(s, "modeled_floor_seconds", number(floor / CostModel.DRAM_BYTES_PER_SECOND));
        StringBuilder launches = new StringBuilder("[");
        for (int i = 0; i < r.launches().size(); i++) {
            EmulatedGpu.LaunchRecord l = r.launches().get(i);
            launches.append(i == 0 ? "" : ", ").append("{\"kernel\": ").append(quote(l.kernel()))
                    .append(", \"grid\": ").append(ints(l.grid())).append(", \"block\": ").append(ints(l.block()))
                    .append(", \"dram_bytes\": ").append(32 * l.dramSectors())
                    .append(", \"instructions\": ").append(l.statistics().instructions())
                    .append(", \"sector_efficiency\": ").append(number(l.statistics().sectorEfficiency()))
                    .append(", \"modeled_seconds\": ").append(number(CostModel.seconds(List.of(l)))).append('}');
        }
        s.append("\"launch_records\": ").append(launches).append("]}");
        return s.toString();
    }

    private static void field(StringBuilder s, String name, String value) {
        s.append(quote(name)).append(": ").append(value).append(", ");
    }

    private static String quote(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String number(double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%.6g", value) : "null";
    }

    private static String sizes(BenchCase c) {
        return ints(c.sizes());
    }

    private static String ints(int[] values) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            s.append(i == 0 ? "" : ", ").append(values[i]);
        }
        return s.append(']').toString();
    }
}

package io.github.batchnorm4j.bench;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * The PNG chart: for each op, GB/s per shape at the floor's pass count, for us, the peer (same
 * bytes over its time) and the copy ceiling measured in the same run. Drawn headless with XChart.
 */
final class BenchChart {
    private BenchChart() {
    }

    static void write(List<BenchRecord> records, String title, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<BenchOp> ops = new ArrayList<>();
        for (BenchRecord r : records) {
            if (!ops.contains(r.op())) {
                ops.add(r.op());
            }
        }
        List<CategoryChart> panels = new ArrayList<>();
        for (BenchOp op : ops) {
            panels.add(panel(records, op, title, 1200, 420));
        }
        // XChart adds ".png" to a name without it.
        BitmapEncoder.saveBitmap(panels, panels.size(), 1, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static CategoryChart panel(List<BenchRecord> records, BenchOp op, String title, int width, int height) {
        CategoryChart chart = new CategoryChartBuilder().width(width).height(height)
                .title(title + ": " + op.key + " (GB/s at " + op.passes + " passes)")
                .xAxisTitle("shape").yAxisTitle("GB/s").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setXAxisLabelRotation(20);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        List<String> shapes = new ArrayList<>();
        List<Double> ours = new ArrayList<>();
        List<Double> peer = new ArrayList<>();
        List<Double> copy = new ArrayList<>();
        boolean anyPeer = false;
        String peerName = "peer";
        for (BenchRecord r : records) {
            if (r.op() != op) {
                continue;
            }
            shapes.add(r.benchCase().label());
            ours.add(r.gbps());
            copy.add(r.copyGbps());
            double peerGbps = r.hasPeer() ? r.op().passes * (double) r.benchCase().bytes() / r.peerSeconds() / 1e9 : 0;
            peer.add(peerGbps);
            if (r.hasPeer()) {
                anyPeer = true;
                peerName = r.peer();
            }
        }
        chart.addSeries("batchnorm4j (" + records.get(0).backend() + ")", shapes, ours);
        if (anyPeer) {
            chart.addSeries(peerName, shapes, peer);
        }
        chart.addSeries("copy ceiling, same run", shapes, copy);
        return chart;
    }
}

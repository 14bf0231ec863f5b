package io.github.batchnorm4j.demo;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The study's PNG: each running estimate's error against the population statistics over the
 * training steps, mean and variance side by side, log-log. Drawn headless with XChart.
 */
public final class StudyChart {
    private StudyChart() {
    }

    public static void write(TestTimeStudy.Result result, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<XYChart> panels = List.of(
                panel(result, true, "running mean: mean |error| / population std"),
                panel(result, false, "running variance: mean |estimate / population - 1|"));
        String name = png.toString();
        String base = name.endsWith(".png") ? name.substring(0, name.length() - 4) : name; // XChart adds .png
        BitmapEncoder.saveBitmap(new ArrayList<>(panels), 1, 2, base, BitmapEncoder.BitmapFormat.PNG);
    }

    private static XYChart panel(TestTimeStudy.Result result, boolean mean, String title) {
        XYChart chart = new XYChartBuilder().width(640).height(460).title(title).xAxisTitle("training step")
                .yAxisTitle("error").build();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        for (int e = 0; e < result.estimators().size(); e++) {
            List<Double> steps = new ArrayList<>(), errors = new ArrayList<>();
            for (TestTimeStudy.ConvergencePoint point : result.convergence()) {
                double error = mean ? point.meanError()[e] : point.varianceError()[e];
                if (error > 0) {
                    steps.add((double) point.step());
                    errors.add(error);
                }
            }
            chart.addSeries(result.estimators().get(e), steps, errors).setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }
}

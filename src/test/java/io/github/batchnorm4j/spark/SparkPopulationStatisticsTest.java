package io.github.batchnorm4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.PopulationStatistics;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.VarianceEstimator;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Population statistics of an RDD on Spark's local[2]: the accumulator of the whole data set in
 * one JVM (partition by partition, in order) bit for bit, the fp64 statistics within 1e-12, the
 * same bits on every run, and bad examples refused.
 */
@Tag("spark")
class SparkPopulationStatisticsTest {
    private static JavaSparkContext spark;

    @BeforeAll
    static void start() {
        spark = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("bn4j-test")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1"));
        spark.setLogLevel("WARN");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void matchesTheAccumulatorOfThePartitionsInOrder() {
        Shape example = Shape.nchw(1, 3, 2, 5);
        int rowSize = 30, rows = 1003, partitions = 5, batchRows = 64;
        Random random = new Random(9);
        List<float[]> data = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            float[] row = new float[rowSize];
            for (int i = 0; i < rowSize; i++) {
                row[i] = (float) (1e3 + i / 10 + 2 * random.nextGaussian());
            }
            data.add(row);
        }
        JavaRDD<float[]> rdd = spark.parallelize(data, partitions);
        PopulationStatistics got = SparkPopulationStatistics.of(rdd, example, batchRows);
        assertEquals((long) rows * 10, got.count());

        // the same partitions, accumulated here in order
        List<List<float[]>> parts = rdd.glom().collect();
        PopulationStatistics want = new PopulationStatistics(3);
        for (List<float[]> part : parts) {
            PopulationStatistics partial = new PopulationStatistics(3);
            for (int first = 0; first < part.size(); first += batchRows) {
                int n = Math.min(batchRows, part.size() - first);
                float[] batch = new float[n * rowSize];
                for (int r = 0; r < n; r++) {
                    System.arraycopy(part.get(first + r), 0, batch, r * rowSize, rowSize);
                }
                partial.add(example.withN(n), batch);
            }
            want.merge(partial);
        }
        assertArrayEquals(want.toBytes(), got.toBytes(), "bitwise the in-order merge of the partitions");
        assertArrayEquals(got.toBytes(), SparkPopulationStatistics.of(rdd, example, batchRows).toBytes(),
                "the same bits on every run");

        // against fp64 statistics of all rows
        double[] mean = new double[3], var = new double[3];
        for (int c = 0; c < 3; c++) {
            double sum = 0, squares = 0;
            for (float[] row : data) {
                for (int i = c * 10; i < c * 10 + 10; i++) {
                    sum += row[i];
                }
            }
            mean[c] = sum / (rows * 10);
            for (float[] row : data) {
                for (int i = c * 10; i < c * 10 + 10; i++) {
                    squares += (row[i] - mean[c]) * (row[i] - mean[c]);
                }
            }
            var[c] = squares / (rows * 10 - 1);
        }
        for (int c = 0; c < 3; c++) {
            assertEquals(mean[c], got.mean()[c], 1e-12 * mean[c], "mean c" + c);
            assertEquals(var[c], got.variance(VarianceEstimator.UNBIASED)[c], 1e-10 * var[c], "variance c" + c);
        }
    }

    @Test
    void refusesBadExamples() {
        Shape example = Shape.nc(1, 4);
        JavaRDD<float[]> wrong = spark.parallelize(List.of(new float[4], new float[3]), 1);
        Exception e = assertThrows(Exception.class, () -> SparkPopulationStatistics.of(wrong, example, 8));
        assertTrue(String.valueOf(e.getMessage()).contains("an example has 3 floats"), e.getMessage());
        JavaRDD<float[]> nan = spark.parallelize(List.of(new float[] {1, 2, Float.NaN, 4}), 1);
        Exception n = assertThrows(Exception.class, () -> SparkPopulationStatistics.of(nan, example, 8));
        assertTrue(String.valueOf(n.getMessage()).contains("NaN or an infinity in channel 2"), n.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SparkPopulationStatistics.of(nan, example, 0));
    }
}

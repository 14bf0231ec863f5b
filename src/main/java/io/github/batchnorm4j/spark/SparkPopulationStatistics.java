package io.github.batchnorm4j.spark;

import io.github.batchnorm4j.PopulationStatistics;
import io.github.batchnorm4j.Shape;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;

/**
 * Exact population statistics ({@link PopulationStatistics}) of a data set that lives in Spark:
 * recalibration (PreciseBN, AdaBN) where the examples are an RDD, or a Dataset turned into one.
 *
 * <p>Each partition accumulates its examples in order, in batches of {@code batchRows}; the
 * driver collects one accumulator per partition (16 bytes a channel each) and merges them in
 * partition order. So the result is bitwise the same for the same partitioning whatever the
 * executors and their timing, which {@code treeAggregate} does not promise (it merges partial
 * results as they arrive); another partitioning moves only the last bits (batch boundaries).
 */
public final class SparkPopulationStatistics {
    private SparkPopulationStatistics() {
    }

    /**
     * The statistics of every example of {@code examples}, each a float[] laid out as
     * {@code example} says (its N is ignored: one example is one row of C*H*W floats).
     *
     * @throws IllegalArgumentException through Spark's job failure, for an example of another
     *     length or holding a NaN or an infinity
     */
    public static PopulationStatistics of(JavaRDD<float[]> examples, Shape example, int batchRows) {
        if (batchRows < 1) {
            throw new IllegalArgumentException("batchRows must be at least 1, got " + batchRows);
        }
        Shape one = example.withN(1);
        int rowSize = Math.toIntExact(one.elementCount());
        int channels = one.channels();
        List<Tuple2<Integer, PopulationStatistics>> parts = examples.mapPartitionsWithIndex(
                (index, rows) -> Collections.singletonList(new Tuple2<>(index,
                        accumulate(rows, one, rowSize, channels, batchRows))).iterator(), true).collect();
        PopulationStatistics total = new PopulationStatistics(channels);
        parts.stream().sorted((a, b) -> Integer.compare(a._1(), b._1())).forEach(part -> total.merge(part._2()));
        return total;
    }

    private static PopulationStatistics accumulate(Iterator<float[]> rows, Shape one, int rowSize, int channels,
            int batchRows) {
        PopulationStatistics stats = new PopulationStatistics(channels);
        float[] batch = new float[batchRows * rowSize];
        int filled = 0;
        while (rows.hasNext()) {
            float[] row = rows.next();
            if (row.length != rowSize) {
                throw new IllegalArgumentException("an example has " + row.length + " floats but " + one
                        + " needs " + rowSize);
            }
            System.arraycopy(row, 0, batch, filled * rowSize, rowSize);
            if (++filled == batchRows) {
                stats.add(one.withN(filled), batch, 0);
                filled = 0;
            }
        }
        if (filled > 0) {
            stats.add(one.withN(filled), batch, 0);
        }
        return stats;
    }
}

package io.github.batchnorm4j;

import io.github.batchnorm4j.internal.BatchNormBackend;
import io.github.batchnorm4j.internal.cpu.CpuBackend;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Supplier;

/**
 * The errors of recalibration, Batch Renormalization and folding against float64, measured on a
 * sweep of shapes with data of mean 1e3 (scripts/test-time-errors runs it on the CPU and on the
 * emulated GPU). The tests bound the same quantities; this prints how far below the bounds they are.
 */
public final class TestTimeErrors {
    private TestTimeErrors() {
    }

    public static void main(String[] args) {
        String backend = args.length > 0 ? args[0] : "cpu";
        Supplier<BatchNormBackend> factory;
        if (backend.equals("cuda")) {
            CudaAvailability availability = CudaAvailability.get();
            if (!availability.available) {
                throw new IllegalStateException("no CUDA device: " + availability.reason);
            }
            factory = () -> new CudaBackend(availability.context);
        } else {
            factory = CpuBackend::new;
        }
        List<Shape> shapes = List.of(Shape.nc(65, 7), Shape.nchw(7, 3, 5, 13), Shape.nhwc(5, 1, 13, 65),
                Shape.nchw(2, 4, 33, 31), Shape.nc(1009, 70));
        double recalMean = 0, recalVar = 0, storedMean = 0, storedVar = 0;
        double renormY = 0, renormDx = 0, renormDgamma = 0, foldY = 0;
        for (Shape shape : shapes) {
            Random random = new Random(shape.hashCode());
            int channels = shape.channels();
            // recalibration: three batches of this shape
            float[][] batches = new float[3][];
            PopulationStatistics stats = new PopulationStatistics(channels);
            for (int b = 0; b < 3; b++) {
                batches[b] = TestData.activations(random, shape, 1e3);
                stats.add(shape, batches[b]);
            }
            Shape whole = PopulationStatisticsTest.withN(shape, 3 * shape.n());
            float[] all = concatenateByRows(shape, batches);
            double[] mean = Float64Reference.mean(whole, all), var = Float64Reference.variance(whole, all, mean);
            long m = whole.valuesPerChannel();
            double[] gotMean = stats.mean(), gotVar = stats.variance(VarianceEstimator.UNBIASED);
            try (BatchNorm layer = BatchNorm.builder(channels).build(factory.get())) {
                layer.setRunningStatistics(stats);
                float[] rm = layer.runningMean(), rv = layer.runningVar();
                for (int c = 0; c < channels; c++) {
                    double unbiased = var[c] * m / (m - 1);
                    recalMean = Math.max(recalMean, Math.abs(gotMean[c] - mean[c]) / Math.sqrt(var[c]));
                    recalVar = Math.max(recalVar, Math.abs(gotVar[c] - unbiased) / unbiased);
                    storedMean = Math.max(storedMean, Math.abs(rm[c] - mean[c]) / Math.sqrt(var[c]));
                    storedVar = Math.max(storedVar, Math.abs(rv[c] - unbiased) / unbiased);
                }
            }
            // renormalization: one step with running statistics away from the batch's
            float[] x = batches[0], dy = TestData.gaussian(random, x.length);
            float[] gamma = TestData.uniform(random, channels, 0.5, 1.5), beta = TestData.gaussian(random, channels);
            double[] bm = Float64Reference.mean(shape, x), bv = Float64Reference.variance(shape, x, bm);
            float[] runningMean = new float[channels], runningVar = new float[channels];
            for (int c = 0; c < channels; c++) {
                runningMean[c] = (float) (bm[c] + Math.sqrt(bv[c]) * random.nextGaussian());
                runningVar[c] = (float) (bv[c] * Math.exp(random.nextGaussian()));
            }
            try (BatchNorm layer = BatchNorm.builder(channels).batchRenormalization(1.5, 0.5).build(factory.get())) {
                layer.setGamma(gamma);
                layer.setBeta(beta);
                layer.setRunningMean(runningMean);
                layer.setRunningVar(runningVar);
                float[] y = new float[x.length], dx = new float[x.length];
                layer.forwardTraining(shape, x, y);
                layer.backward(shape, x, dy, dx);
                double[][] want = Float64Reference.renormTraining(shape, x, dy, gamma, beta, runningMean, runningVar,
                        1e-5, 1.5, 0.5);
                renormY = Math.max(renormY, maxError(want[0], y) / Math.max(1, maxAbs(want[0])));
                renormDx = Math.max(renormDx, maxError(want[1], dx) / maxAbs(want[1]));
                renormDgamma = Math.max(renormDgamma, maxError(want[2], layer.gammaGradient()) / maxAbs(want[2]));

                // folding the layer's inference map into a linear layer of 9 inputs that feeds it
                int inputs = 9, rows = 17;
                float[] w = TestData.gaussian(random, channels * inputs), in = TestData.gaussian(random, rows * inputs);
                float[] b = TestData.gaussian(random, channels);
                InferenceAffine.Folded folded = layer.inferenceAffine().foldInto(w, new long[] {channels, inputs}, b);
                float[] foldedOut = ReferenceLayers.linear(in, rows, inputs, folded.weight(), folded.bias(), channels);
                double[] unfused = unfusedReference(in, rows, inputs, w, b, layer, channels);
                foldY = Math.max(foldY, maxError(unfused, foldedOut) / Math.max(1, maxAbs(unfused)));
            }
        }
        System.out.printf(Locale.ROOT, "backend %s, %d shapes (%s ... %s), data of mean 1e3%n", backend, shapes.size(),
                shapes.get(0), shapes.get(shapes.size() - 1));
        System.out.printf(Locale.ROOT, "recalibrate  accumulator (fp64): mean %.1e std, variance %.1e relative%n",
                recalMean, recalVar);
        System.out.printf(Locale.ROOT, "             stored running statistics (float32): mean %.1e std, "
                + "variance %.1e relative%n", storedMean, storedVar);
        System.out.printf(Locale.ROOT, "renorm       y %.1e, dx %.1e, dgamma %.1e (relative to the largest)%n", renormY,
                renormDx, renormDgamma);
        System.out.printf(Locale.ROOT, "fold         folded linear layer vs the unfused pair in fp64: %.1e relative%n",
                foldY);
    }

    /** Linear then the layer's inference, all in fp64 from the layer's float state. */
    private static double[] unfusedReference(float[] in, int rows, int inputs, float[] w, float[] b, BatchNorm layer,
            int channels) {
        float[] rm = layer.runningMean(), rv = layer.runningVar(), g = layer.gamma(), beta = layer.beta();
        double[] out = new double[rows * channels];
        for (int n = 0; n < rows; n++) {
            for (int c = 0; c < channels; c++) {
                double z = b[c];
                for (int i = 0; i < inputs; i++) {
                    z += (double) in[n * inputs + i] * w[c * inputs + i];
                }
                out[n * channels + c] = g[c] * (z - rm[c]) / Math.sqrt(rv[c] + 1e-5) + beta[c];
            }
        }
        return out;
    }

    /** Batches stacked along N: every layout keeps N outermost, so that is concatenation. */
    private static float[] concatenateByRows(Shape shape, float[][] batches) {
        int size = (int) shape.elementCount();
        float[] all = new float[size * batches.length];
        for (int b = 0; b < batches.length; b++) {
            System.arraycopy(batches[b], 0, all, b * size, size);
        }
        return all;
    }

    private static double maxError(double[] want, float[] got) {
        double max = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(got[i] - want[i]));
        }
        return max;
    }

    private static double maxAbs(double[] values) {
        double max = 0;
        for (double v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}

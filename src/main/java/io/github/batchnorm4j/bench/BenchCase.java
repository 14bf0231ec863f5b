package io.github.batchnorm4j.bench;

import io.github.batchnorm4j.Layout;
import io.github.batchnorm4j.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * One named shape of the benchmark: sizes in memory order, and whether it is timed for inference
 * only (the single-example shapes, where training is undefined or meaningless).
 */
public record BenchCase(Layout layout, int[] sizes, boolean inferenceOnly) {

    /** The shapes issue 5 names: NCHW and NHWC image shapes, NC dense shapes, single examples. */
    public static List<BenchCase> standard() {
        List<BenchCase> cases = new ArrayList<>();
        int[][] images = {{64, 256, 28, 28}, {32, 64, 56, 56}, {256, 64, 112, 112}};
        for (int[] d : images) {
            cases.add(new BenchCase(Layout.NCHW, d, false));
        }
        for (int[] d : images) {
            cases.add(new BenchCase(Layout.NHWC, new int[] {d[0], d[2], d[3], d[1]}, false));
        }
        cases.add(new BenchCase(Layout.NC, new int[] {4096, 1024}, false));
        cases.add(new BenchCase(Layout.NC, new int[] {256, 4096}, false));
        cases.addAll(singleExamples());
        return cases;
    }

    /** One shape of each kind, for a run of a minute or less. */
    public static List<BenchCase> quick() {
        List<BenchCase> cases = new ArrayList<>();
        cases.add(new BenchCase(Layout.NCHW, new int[] {32, 64, 56, 56}, false));
        cases.add(new BenchCase(Layout.NHWC, new int[] {32, 56, 56, 64}, false));
        cases.add(new BenchCase(Layout.NC, new int[] {256, 4096}, false));
        cases.addAll(singleExamples());
        return cases;
    }

    private static List<BenchCase> singleExamples() {
        return List.of(new BenchCase(Layout.NC, new int[] {1, 1024}, true),
                new BenchCase(Layout.NCHW, new int[] {1, 256, 7, 7}, true));
    }

    /**
     * A case from {@code LAYOUT:SIZES}, sizes in memory order joined by x (NCHW:64x256x28x28,
     * NHWC:32x56x56x64, NC:4096x1024), with {@code /inference} appended for inference only.
     *
     * @throws IllegalArgumentException naming what is wrong with the text
     */
    public static BenchCase parse(String text) {
        String body = text;
        boolean inferenceOnly = body.endsWith("/inference");
        if (inferenceOnly) {
            body = body.substring(0, body.length() - "/inference".length());
        }
        String[] parts = body.split(":");
        if (parts.length != 2) {
            throw new IllegalArgumentException("expected LAYOUT:SIZES");
        }
        Layout layout;
        try {
            layout = Layout.valueOf(parts[0]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("layout '" + parts[0] + "' is none of NC, NCHW, NHWC");
        }
        String[] d = parts[1].split("x");
        int rank = layout == Layout.NC ? 2 : 4;
        if (d.length != rank) {
            throw new IllegalArgumentException(layout + " needs " + rank + " sizes, got " + d.length);
        }
        int[] sizes = new int[rank];
        for (int i = 0; i < rank; i++) {
            try {
                sizes[i] = Integer.parseInt(d[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("size '" + d[i] + "' is not a whole number");
            }
        }
        BenchCase benchCase = new BenchCase(layout, sizes, inferenceOnly);
        Shape shape = benchCase.shape(); // checks the sizes themselves
        if (!inferenceOnly && shape.valuesPerChannel() < 2) {
            throw new IllegalArgumentException("training needs more than 1 value per channel; add /inference");
        }
        return benchCase;
    }

    public Shape shape() {
        return switch (layout) {
            case NC -> Shape.nc(sizes[0], sizes[1]);
            case NCHW -> Shape.nchw(sizes[0], sizes[1], sizes[2], sizes[3]);
            case NHWC -> Shape.nhwc(sizes[0], sizes[1], sizes[2], sizes[3]);
        };
    }

    public List<BenchOp> ops() {
        return inferenceOnly ? List.of(BenchOp.INFERENCE) : List.of(BenchOp.values());
    }

    /** Sizes joined by x, as in "64x256x28x28". */
    public String sizesText() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < sizes.length; i++) {
            s.append(i == 0 ? "" : "x").append(sizes[i]);
        }
        return s.toString();
    }

    /** "NCHW 64x256x28x28": the label in tables, charts and the peer's output. */
    public String label() {
        return layout + " " + sizesText();
    }

    /** The argument the peer script takes for this case. */
    String peerSpec() {
        return layout + ":" + sizesText() + (inferenceOnly ? "/inference" : "");
    }

    public long bytes() {
        return 4L * shape().elementCount();
    }
}

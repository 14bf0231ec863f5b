package io.github.batchnorm4j;

import java.io.Serializable;
import java.util.Objects;

/**
 * The shape of one activation tensor: its layout and its N, C, H, W sizes (H = W = 1 for NC).
 * Every size is at least 1; the element count is a {@code long} so that device tensors larger than
 * a Java array fit the same type.
 */
public final class Shape implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Layout layout;
    private final int n;
    private final int c;
    private final int h;
    private final int w;

    private Shape(Layout layout, int n, int c, int h, int w) {
        this.layout = layout;
        this.n = n;
        this.c = c;
        this.h = h;
        this.w = w;
        if (n <= 0 || c <= 0 || h <= 0 || w <= 0) {
            throw new IllegalArgumentException("every dimension must be positive, got " + this);
        }
        if (elementCount() > Long.MAX_VALUE / Float.BYTES) {
            throw new IllegalArgumentException("shape " + this + " has too many elements");
        }
    }

    /** A fully connected activation {@code z[n][c]}. */
    public static Shape nc(int n, int c) {
        return new Shape(Layout.NC, n, c, 1, 1);
    }

    /** A channels-first convolution activation {@code z[n][c][h][w]}. */
    public static Shape nchw(int n, int c, int h, int w) {
        return new Shape(Layout.NCHW, n, c, h, w);
    }

    /** A channels-last convolution activation {@code z[n][h][w][c]}. */
    public static Shape nhwc(int n, int h, int w, int c) {
        return new Shape(Layout.NHWC, n, c, h, w);
    }

    public Layout layout() {
        return layout;
    }

    public int n() {
        return n;
    }

    public int channels() {
        return c;
    }

    public int height() {
        return h;
    }

    public int width() {
        return w;
    }

    /** H*W: the length of one contiguous channel run in NCHW (1 for NC). */
    public long spatialSize() {
        return (long) h * w;
    }

    /** m: how many values one channel has in this tensor (N*H*W). */
    public long valuesPerChannel() {
        return n * spatialSize();
    }

    public long elementCount() {
        return valuesPerChannel() * c;
    }

    /** Deserialized shapes go through the constructor's checks too. */
    private Object readResolve() {
        return new Shape(layout, n, c, h, w);
    }

    /** This shape with N = {@code n}: the same layout, C, H and W. */
    public Shape withN(int n) {
        return new Shape(layout, n, c, h, w);
    }

    /**
     * Whether each channel's values are one stride-C column of rows of C values (NC, NHWC, and NCHW
     * with H*W = 1, which is the same memory). Otherwise each channel is N runs of H*W values.
     */
    public boolean isChannelsLast() {
        return layout != Layout.NCHW || spatialSize() == 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && s.layout == layout && s.n == n && s.c == c && s.h == h && s.w == w;
    }

    /** The same in every JVM (an enum's own hash is not): tests seed their random data with it. */
    @Override
    public int hashCode() {
        return Objects.hash(layout.ordinal(), n, c, h, w);
    }

    /** For example {@code NCHW [2, 3, 4, 5]} or {@code NHWC [2, 4, 5, 3]}: sizes in memory order. */
    @Override
    public String toString() {
        switch (layout) {
            case NC:
                return "NC [" + n + ", " + c + "]";
            case NCHW:
                return "NCHW [" + n + ", " + c + ", " + h + ", " + w + "]";
            default:
                return "NHWC [" + n + ", " + h + ", " + w + ", " + c + "]";
        }
    }
}

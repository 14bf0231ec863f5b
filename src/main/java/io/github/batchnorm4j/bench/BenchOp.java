package io.github.batchnorm4j.bench;

/** What a benchmark figure times, and how many passes over the tensor its memory floor takes. */
public enum BenchOp {
    /** Read x, write y: 2 passes when x stays on chip between statistics and normalization. */
    TRAIN_FORWARD("train_forward", 2),
    /** Read x, write y. */
    INFERENCE("inference", 2),
    /** Read x and dy, write dx: 3 passes when x and dy stay on chip between the sums and dx. */
    BACKWARD("backward", 3);

    /** The name in JSON records and in the peer script's output. */
    public final String key;
    /** Passes over the tensor at the floor; GB/s figures count these bytes. */
    public final int passes;

    BenchOp(String key, int passes) {
        this.key = key;
        this.passes = passes;
    }

    static BenchOp ofKey(String key) {
        for (BenchOp op : values()) {
            if (op.key.equals(key)) {
                return op;
            }
        }
        throw new IllegalArgumentException("unknown op '" + key + "'");
    }
}

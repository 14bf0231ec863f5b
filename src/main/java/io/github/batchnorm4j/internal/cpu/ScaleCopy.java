package io.github.batchnorm4j.internal.cpu;

/**
 * The machine's ceiling for a memory-bound pass: {@code y = 1.0001 * x} over a whole array, cut into
 * the same chunks and run on the same worker threads and element-wise loop as the CPU layers. A
 * benchmark times it beside batch norm on the same bytes, so a ratio to it says how close a pass is
 * to what this machine can move. Not thread-safe: one call at a time per instance.
 */
public final class ScaleCopy {
    private float[] from;
    private float[] to;
    private final WorkerPool.Job job = this::task;

    /** Writes {@code 1.0001 * source[i]} to {@code target[i]} for every i of source. */
    public void run(float[] source, float[] target) {
        if (target.length < source.length) {
            throw new IllegalArgumentException("target holds " + target.length + " floats, source " + source.length);
        }
        from = source;
        to = target;
        try {
            WorkerPool.shared().run((source.length + CpuTuning.CHUNK - 1) / CpuTuning.CHUNK, job);
        } finally {
            from = to = null;
        }
    }

    private void task(int t) {
        int start = t * CpuTuning.CHUNK;
        int end = Math.min(from.length, start + CpuTuning.CHUNK);
        // The library's own fastest element-wise loop (Vector API when present): a plain C2 loop
        // ran slower than inference itself, which made the ceiling a floor.
        NormalizeLoops.normalize(from, start, to, start, end - start, 0f, 1.0001f, 0f);
    }
}

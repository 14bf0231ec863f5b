package io.github.batchnorm4j.internal;

import java.nio.FloatBuffer;

/**
 * Arrays that stand in for direct or read-only buffers, so the backends see float arrays only:
 * one per argument position, grown to the largest call and reused, so steady state allocates
 * nothing.
 */
public final class HostStaging {
    private float[] stageA = new float[0];
    private float[] stageB = new float[0];
    private float[] stageC = new float[0];

    /** The array to read a buffer's data from: its own backing array, or a staging copy. */
    public float[] input(FloatBuffer buffer, int count, int stage) {
        if (buffer.hasArray()) {
            return buffer.array();
        }
        float[] copy = stage(stage, count);
        buffer.get(buffer.position(), copy, 0, count);
        return copy;
    }

    public float[] outputArray(FloatBuffer buffer, int count, int stage) {
        return buffer.hasArray() ? buffer.array() : stage(stage, count);
    }

    public static int offset(FloatBuffer buffer, float[] array) {
        return buffer.hasArray() && buffer.array() == array ? buffer.arrayOffset() + buffer.position() : 0;
    }

    public static void finishOutput(FloatBuffer buffer, float[] array, int count) {
        if (!buffer.hasArray()) {
            buffer.put(buffer.position(), array, 0, count);
        }
    }

    private float[] stage(int which, int count) {
        switch (which) {
            case 0:
                if (stageA.length < count) {
                    stageA = new float[count];
                }
                return stageA;
            case 1:
                if (stageB.length < count) {
                    stageB = new float[count];
                }
                return stageB;
            default:
                if (stageC.length < count) {
                    stageC = new float[count];
                }
                return stageC;
        }
    }

    /** Lets go of the staging arrays (a closed layer keeps only its C-sized state). */
    public void release() {
        stageA = stageB = stageC = new float[0];
    }
}

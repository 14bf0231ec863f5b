package io.github.batchnorm4j.emulator;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** Test helper: lays out a kernel's arguments in order at the offsets its .param list gives. */
final class ParameterBuffer {
    private final List<PtxParameter> parameters;
    private final ByteBuffer buffer;
    private int next;

    ParameterBuffer(PtxKernel kernel) {
        parameters = kernel.parameters();
        buffer = ByteBuffer.allocate(kernel.parameterBytes()).order(ByteOrder.LITTLE_ENDIAN);
    }

    private PtxParameter take(int size) {
        PtxParameter p = parameters.get(next++);
        if (p.size() != size) {
            throw new IllegalArgumentException(p.name() + " has " + p.size() + " bytes, not " + size);
        }
        return p;
    }

    ParameterBuffer u64(long value) {
        buffer.putLong(take(8).offset(), value);
        return this;
    }

    ParameterBuffer f64(double value) {
        buffer.putDouble(take(8).offset(), value);
        return this;
    }

    ParameterBuffer u32(int value) {
        buffer.putInt(take(4).offset(), value);
        return this;
    }

    ParameterBuffer f32(float value) {
        buffer.putFloat(take(4).offset(), value);
        return this;
    }

    byte[] bytes() {
        if (next != parameters.size()) {
            throw new IllegalStateException("only " + next + " of " + parameters.size() + " parameters set");
        }
        return buffer.array();
    }
}

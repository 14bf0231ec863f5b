package io.github.batchnorm4j.emulator;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a kernel's variables of one state space lie: for .shared, the static ones in declaration
 * order, each at its alignment (module-scope ones only if the kernel names them, as ptxas
 * allocates them), then the dynamic shared memory of the launch, 16-byte aligned at least; for
 * .local, a thread's local variables the same way. Addresses start at 0 in their state space.
 */
final class VariableLayout {
    private final Map<String, Integer> offsets = new LinkedHashMap<>();
    private final int staticBytes;
    private final int dynamicOffset;

    VariableLayout(List<MemoryVariable> variables) {
        int end = 0;
        int dynamicAlign = 16;
        for (MemoryVariable v : variables) {
            if (v.dynamic()) {
                dynamicAlign = Math.max(dynamicAlign, v.align());
                continue;
            }
            int offset = align(end, v.align());
            offsets.put(v.name(), offset);
            end = offset + v.size();
        }
        staticBytes = end;
        dynamicOffset = align(end, dynamicAlign);
        for (MemoryVariable v : variables) {
            if (v.dynamic()) {
                offsets.put(v.name(), dynamicOffset);
            }
        }
    }

    static int align(int value, int alignment) {
        return alignment <= 1 ? value : (value + alignment - 1) / alignment * alignment;
    }

    /** The shared address of a variable, or -1 when the kernel has none of that name. */
    int offset(String name) {
        Integer offset = offsets.get(name);
        return offset == null ? -1 : offset;
    }

    int staticBytes() {
        return staticBytes;
    }

    /** The bytes a block has with {@code dynamicBytes} of dynamic shared memory. */
    int totalBytes(int dynamicBytes) {
        return dynamicBytes == 0 ? staticBytes : dynamicOffset + dynamicBytes;
    }

    Map<String, Integer> offsets() {
        return Collections.unmodifiableMap(offsets);
    }
}

package io.github.batchnorm4j.emulator;

import java.util.List;
import java.util.Map;

/**
 * One {@code .entry} of a module, decoded and ready to launch with {@link Interpreter#launch}.
 * Immutable but for a thread-safe pool of block states: any number of launches, from any
 * threads, may share it.
 */
public final class PtxKernel {
    private final String name;
    private final List<PtxParameter> parameters;
    private final int parameterBytes;
    final VariableLayout shared;
    /** Bytes of .local memory each thread has. */
    final int localBytes;
    final Instruction[] code;
    final long[] registerTemplate;
    /** Special registers the kernel reads, and their slots. */
    final SpecialRegister[] specials;
    final int[] specialSlots;
    final int globalMemorySlots;
    /** .reqntid / .maxntid, or null. */
    final int[] requiredBlock;
    final int[] maximumBlock;
    /** Block states kept between launches (the only mutable part, and thread-safe). */
    final BlockPool blockPool = new BlockPool();

    PtxKernel(String name, List<PtxParameter> parameters, VariableLayout shared, int localBytes, Instruction[] code,
              RegisterFile registers, int globalMemorySlots, int[] requiredBlock, int[] maximumBlock) {
        this.name = name;
        this.parameters = List.copyOf(parameters);
        int end = 0;
        for (PtxParameter p : parameters) {
            end = Math.max(end, p.offset() + p.size());
        }
        this.parameterBytes = end;
        this.shared = shared;
        this.localBytes = localBytes;
        this.code = code;
        this.registerTemplate = registers.template();
        Map<SpecialRegister, Integer> used = registers.specials();
        this.specials = used.keySet().toArray(new SpecialRegister[0]);
        this.specialSlots = new int[specials.length];
        for (int i = 0; i < specials.length; i++) {
            specialSlots[i] = used.get(specials[i]);
        }
        this.globalMemorySlots = globalMemorySlots;
        this.requiredBlock = requiredBlock;
        this.maximumBlock = maximumBlock;
    }

    public String name() {
        return name;
    }

    /** The {@code .param} list in order, with each parameter's offset in the parameter buffer. */
    public List<PtxParameter> parameters() {
        return parameters;
    }

    /** The size a launch's parameter buffer must have: the end of the last parameter. */
    public int parameterBytes() {
        return parameterBytes;
    }

    /** Bytes of static {@code .shared} memory a block of this kernel has. */
    public int staticSharedBytes() {
        return shared.staticBytes();
    }

    /** Decoded instructions (including the implicit exit at the end of the body). */
    public int instructionCount() {
        return code.length;
    }

    @Override
    public String toString() {
        return "PtxKernel[" + name + "]";
    }
}

package io.github.batchnorm4j.emulator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Resolves the operand texts of one kernel's instructions into register-file slots: registers,
 * special registers, immediates (integers, {@code 0f}/{@code 0d} hex floats, decimal floats),
 * symbol addresses, vectors {@code {a, b}} and addresses {@code [base+offset]}. Anything it cannot
 * resolve is a {@link DecodeException} naming the operand.
 */
final class Operands {
    /** Generic addresses at or above this (and below it plus 4 GiB) are shared memory. */
    static final long SHARED_WINDOW = 0x7F00_0000_0000_0000L;
    /** Generic addresses at or above this (and below it plus 4 GiB) are the thread's local memory. */
    static final long LOCAL_WINDOW = 0x7E00_0000_0000_0000L;

    /** A resolved address operand: base slot plus a constant displacement. */
    record Address(int base, long displacement) {
    }

    private final RegisterFile registers;
    private final VariableLayout shared;
    private final VariableLayout local;
    private final Map<String, PtxParameter> parameters;
    private final Map<String, Integer> labels;

    Operands(RegisterFile registers, VariableLayout shared, VariableLayout local,
             Map<String, PtxParameter> parameters, Map<String, Integer> labels) {
        this.registers = registers;
        this.shared = shared;
        this.local = local;
        this.parameters = parameters;
        this.labels = labels;
    }

    /** Splits an operand list at the commas outside braces and brackets. */
    static List<String> split(String operands) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < operands.length(); i++) {
            char c = operands.charAt(i);
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(operands.substring(start, i).trim());
                start = i + 1;
            }
        }
        String last = operands.substring(start).trim();
        if (!last.isEmpty() || !parts.isEmpty()) {
            parts.add(last);
        }
        return parts;
    }

    /** A destination register (or the sink {@code _}). */
    int destination(String text) {
        if (text.equals("_")) {
            return registers.sink();
        }
        RegisterFile.Register r = registers.find(text);
        if (r == null) {
            throw new DecodeException("unknown destination register " + text);
        }
        return r.slot();
    }

    /** The declared type of a register operand, or null if it is not a declared register. */
    PtxType registerType(String text) {
        RegisterFile.Register r = registers.find(text);
        return r == null ? null : r.type();
    }

    /** A predicate register. */
    int predicate(String text) {
        RegisterFile.Register r = registers.find(text);
        if (r == null || r.type() != PtxType.PRED) {
            throw new DecodeException("expected a predicate register, found " + text);
        }
        return r.slot();
    }

    /** A source read as {@code type}: register, special register, immediate or symbol address. */
    int source(String text, PtxType type) {
        if (text.isEmpty()) {
            throw new DecodeException("missing operand");
        }
        char first = text.charAt(0);
        if (first == '%') {
            RegisterFile.Register r = registers.find(text);
            if (r != null) {
                return r.slot();
            }
            SpecialRegister s = SpecialRegister.parse(text);
            if (s != null) {
                return registers.special(s);
            }
            throw new DecodeException("unknown register " + text);
        }
        if (Character.isDigit(first) || first == '-' || first == '+' || first == '.') {
            return registers.constant(Immediates.parse(text, type));
        }
        RegisterFile.Register named = registers.find(text);
        if (named != null) {
            return named.slot();
        }
        return registers.constant(symbolAddress(text, false));
    }

    /** The address of a shared or local variable or a parameter named in an operand. */
    long symbolAddress(String name, boolean generic) {
        int offset = shared.offset(name);
        if (offset >= 0) {
            return generic ? SHARED_WINDOW + offset : offset;
        }
        int localOffset = local.offset(name);
        if (localOffset >= 0) {
            return generic ? LOCAL_WINDOW + localOffset : localOffset;
        }
        PtxParameter p = parameters.get(name);
        if (p != null) {
            if (generic) {
                throw new DecodeException("generic address of parameter " + name + " is not supported");
            }
            return p.offset();
        }
        throw new DecodeException("unknown symbol " + name);
    }

    /** True when {@code name} is a kernel parameter. */
    boolean isParameter(String name) {
        return parameters.containsKey(name);
    }

    /** The registers of a vector operand {@code {%f1, %f2}} (sink {@code _} allowed). */
    int[] vector(String text, boolean destination, PtxType type) {
        if (!text.startsWith("{") || !text.endsWith("}")) {
            throw new DecodeException("expected a vector operand, found " + text);
        }
        List<String> items = split(text.substring(1, text.length() - 1));
        int[] slots = new int[items.size()];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = destination ? destination(items.get(i)) : source(items.get(i), type);
        }
        return slots;
    }

    /** An address {@code [reg]}, {@code [reg+imm]}, {@code [symbol+imm]} or {@code [imm]}. */
    Address address(String text, StateSpace space) {
        if (!text.startsWith("[") || !text.endsWith("]")) {
            throw new DecodeException("expected an address operand, found " + text);
        }
        String inside = text.substring(1, text.length() - 1).replace(" ", "");
        String base = inside;
        long displacement = 0;
        int split = inside.indexOf('+', 1);
        if (split < 0) {
            split = inside.indexOf('-', 1);
        }
        if (split > 0) {
            base = inside.substring(0, split);
            String offset = inside.substring(inside.charAt(split) == '+' ? split + 1 : split);
            displacement = Immediates.parseInteger(offset);
        }
        if (base.isEmpty()) {
            throw new DecodeException("empty address " + text);
        }
        char first = base.charAt(0);
        if (Character.isDigit(first) || first == '-') {
            return new Address(registers.constant(0), Immediates.parseInteger(base) + displacement);
        }
        if (first == '%' || registers.find(base) != null) {
            RegisterFile.Register r = registers.find(base);
            if (r == null) {
                throw new DecodeException("unknown address register " + base);
            }
            return new Address(r.slot(), displacement);
        }
        boolean isShared = shared.offset(base) >= 0;
        boolean isLocal = local.offset(base) >= 0;
        boolean isParameter = parameters.containsKey(base);
        if (space == StateSpace.PARAM && !isParameter) {
            throw new DecodeException(base + " is not a parameter of this kernel");
        }
        if (space == StateSpace.SHARED && !isShared) {
            throw new DecodeException(base + " is not a shared variable of this kernel");
        }
        if (space == StateSpace.LOCAL && !isLocal) {
            throw new DecodeException(base + " is not a local variable of this kernel");
        }
        if (space == StateSpace.GLOBAL) {
            throw new DecodeException("module-scope .global variables are not supported: " + base);
        }
        return new Address(registers.constant(0), symbolAddress(base, space == StateSpace.GENERIC)
                + displacement);
    }

    /** The instruction index of a label. */
    int label(String name) {
        Integer target = labels.get(name);
        if (target == null) {
            throw new DecodeException("unknown label " + name);
        }
        return target;
    }
}

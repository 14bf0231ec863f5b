package io.github.batchnorm4j.emulator;

import java.util.List;

/**
 * Decodes ld, st, atom and red on the param, global, shared and generic state spaces, scalar or
 * .v2/.v4. Cache operators, eviction hints and memory-order qualifiers are accepted and do not
 * change what the interpreter does (it runs one thread at a time, so every access is coherent).
 */
final class MemoryDecoder {
    /** Counts global-memory instructions, so each gets a statistics slot. */
    interface SlotCounter {
        int next();
    }

    private MemoryDecoder() {
    }

    static void decode(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o,
                       SlotCounter slots) {
        takeQualifiers(m);
        StateSpace space = space(m);
        switch (name) {
            case "ld": load(m, ops, b, o, space); break;
            case "st": store(m, ops, b, o, space); break;
            default: AtomicDecoder.decode(name, m, ops, b, o, space); break;
        }
        if (space == StateSpace.GLOBAL || space == StateSpace.GENERIC) {
            b.memorySlot = slots.next();
        }
    }

    /** Qualifiers that order or cache but never change a single-threaded result. */
    static void takeQualifiers(Modifiers m) {
        m.takeAny("weak", "volatile", "relaxed", "acquire", "release", "acq_rel", "mmio");
        m.takeAny("cta", "gpu", "sys", "cluster");
        m.takeAny("ca", "cg", "cs", "lu", "cv", "wb", "wt");
        m.takePrefixed("L1::");
        m.takePrefixed("L2::");
    }

    static StateSpace space(Modifiers m) {
        String s = m.takeAny("param", "global", "shared", "shared::cta", "local", "const", "tex");
        if (s == null) {
            return StateSpace.GENERIC;
        }
        switch (s) {
            case "param": return StateSpace.PARAM;
            case "global": return StateSpace.GLOBAL;
            case "shared": case "shared::cta": return StateSpace.SHARED;
            case "local": return StateSpace.LOCAL;
            default: throw new DecodeException("the ." + s + " state space is not supported");
        }
    }

    private static int vectorLength(Modifiers m) {
        String v = m.takeAny("v2", "v4", "v8");
        if (v == null) {
            return 1;
        }
        if (v.equals("v8")) {
            throw new DecodeException(".v8 is not supported");
        }
        return v.equals("v2") ? 2 : 4;
    }

    private static PtxType memoryType(Modifiers m) {
        PtxType t = m.requireType();
        if (t == PtxType.PRED) {
            throw new DecodeException("memory accesses have no .pred form");
        }
        return t;
    }

    private static void load(Modifiers m, List<String> ops, Instruction.Builder b, Operands o, StateSpace space) {
        boolean nonCoherent = m.take("nc");
        if (nonCoherent && space != StateSpace.GLOBAL) {
            throw new DecodeException(".nc needs .global");
        }
        int length = vectorLength(m);
        PtxType t = memoryType(m);
        IntegerDecoder.expect(ops, 2);
        setAccess(b, t, length, space);
        b.accessKind = nonCoherent ? AccessKind.LOAD_NONCOHERENT : AccessKind.LOAD;
        b.signExtend = t.isSigned();
        Operands.Address address = o.address(ops.get(1), space);
        b.a = address.base();
        b.displacement = address.displacement();
        if (length > 1) {
            b.vector = o.vector(ops.get(0), true, t);
            b.op = Opcode.LD_VECTOR;
        } else {
            b.d = o.destination(ops.get(0));
            PtxType register = o.registerType(ops.get(0));
            b.registerWidth = register != null && register.bits > t.bits ? register.bits : t.bits;
            b.op = space == StateSpace.PARAM ? Opcode.LD_PARAM : space == StateSpace.GLOBAL ? Opcode.LD_GLOBAL
                    : space == StateSpace.SHARED ? Opcode.LD_SHARED : space == StateSpace.LOCAL ? Opcode.LD_LOCAL
                    : Opcode.LD_GENERIC;
        }
    }

    private static void store(Modifiers m, List<String> ops, Instruction.Builder b, Operands o, StateSpace space) {
        if (space == StateSpace.PARAM) {
            throw new DecodeException("st.param (function calls) is not supported");
        }
        int length = vectorLength(m);
        PtxType t = memoryType(m);
        IntegerDecoder.expect(ops, 2);
        setAccess(b, t, length, space);
        b.accessKind = AccessKind.STORE;
        Operands.Address address = o.address(ops.get(0), space);
        b.a = address.base();
        b.displacement = address.displacement();
        if (length > 1) {
            b.vector = o.vector(ops.get(1), false, t);
            b.op = Opcode.ST_VECTOR;
        } else {
            b.b = o.source(ops.get(1), t);
            b.op = space == StateSpace.GLOBAL ? Opcode.ST_GLOBAL : space == StateSpace.SHARED ? Opcode.ST_SHARED
                    : space == StateSpace.LOCAL ? Opcode.ST_LOCAL : Opcode.ST_GENERIC;
        }
    }

    private static void setAccess(Instruction.Builder b, PtxType t, int length, StateSpace space) {
        b.op(0, t, InstructionClass.MEMORY);
        b.space = space;
        b.size = t.bytes();
        if (b.size * length > 16) {
            throw new DecodeException("vector accesses above 16 bytes are not supported");
        }
    }
}

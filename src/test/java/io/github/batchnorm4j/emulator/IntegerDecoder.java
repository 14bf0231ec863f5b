package io.github.batchnorm4j.emulator;

import java.util.List;

/**
 * Decodes integer and bitwise instructions (all of .u16/.s16/.b16 through .u64/.s64/.b64 where
 * PTX defines them, and the logic operations on .pred). The width becomes the instruction's mask
 * and shift; the operation its opcode.
 */
final class IntegerDecoder {
    private IntegerDecoder() {
    }

    static void decode(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        switch (name) {
            case "add": case "sub": addSub(name, m, ops, b, o); break;
            case "mul": case "mad": multiply(name, m, ops, b, o); break;
            case "div": case "rem": divide(name, m, ops, b, o); break;
            case "min": case "max": minMax(name, m, ops, b, o); break;
            case "abs": case "neg": case "not": case "cnot": unary(name, m, ops, b, o); break;
            case "and": case "or": case "xor": logic(name, m, ops, b, o); break;
            case "shl": case "shr": shift(name, m, ops, b, o); break;
            default: IntegerOtherDecoder.decode(name, m, ops, b, o); break;
        }
    }

    static void expect(List<String> ops, int count) {
        if (ops.size() != count) {
            throw new DecodeException("expected " + count + " operands, found " + ops.size());
        }
    }

    static PtxType integerType(Modifiers m) {
        PtxType t = m.requireType();
        if (!t.isInteger() || t.bits < 16) {
            throw new DecodeException("unsupported type ." + t.ptxName() + " in " + m.opcode());
        }
        return t;
    }

    static void operands(List<String> ops, Instruction.Builder b, Operands o, PtxType t, int sources) {
        expect(ops, sources + 1);
        b.d = o.destination(ops.get(0));
        b.a = o.source(ops.get(1), t);
        if (sources > 1) {
            b.b = o.source(ops.get(2), t);
        }
        if (sources > 2) {
            b.c = o.source(ops.get(3), t);
        }
    }

    private static void addSub(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        boolean sat = m.take("sat");
        PtxType t = integerType(m);
        if (sat) {
            if (t != PtxType.S32) {
                throw new DecodeException(".sat needs .s32 in " + m.opcode());
            }
            b.op(Opcode.INT_OTHER, t, InstructionClass.INTEGER);
            b.sub = name.equals("add") ? IntegerOps.ADD_SAT : IntegerOps.SUB_SAT;
        } else {
            b.op(name.equals("add") ? Opcode.ADD : Opcode.SUB, t, InstructionClass.INTEGER);
        }
        operands(ops, b, o, t, 2);
    }

    private static void multiply(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        boolean mad = name.equals("mad");
        String part = m.takeAny("lo", "hi", "wide");
        if (part == null) {
            throw new DecodeException(name + " needs .lo, .hi or .wide");
        }
        boolean sat = mad && m.take("sat");
        PtxType t = integerType(m);
        boolean signed = t.isSigned();
        int op;
        switch (part) {
            case "lo": op = mad ? Opcode.MAD_LO : Opcode.MUL_LO; break;
            case "hi": op = mad ? (signed ? Opcode.MAD_HI_S : Opcode.MAD_HI_U)
                    : (signed ? Opcode.MUL_HI_S : Opcode.MUL_HI_U); break;
            default:
                if (t.bits == 64) {
                    throw new DecodeException(".wide needs a 16- or 32-bit type in " + m.opcode());
                }
                op = mad ? (signed ? Opcode.MAD_WIDE_S : Opcode.MAD_WIDE_U)
                        : (signed ? Opcode.MUL_WIDE_S : Opcode.MUL_WIDE_U);
                break;
        }
        if (sat) {
            if (t != PtxType.S32 || !part.equals("hi")) {
                throw new DecodeException(".sat needs mad.hi.s32 in " + m.opcode());
            }
            b.op(Opcode.INT_OTHER, t, InstructionClass.INTEGER);
            b.sub = IntegerOps.MAD_HI_SAT;
        } else {
            b.op(op, t, InstructionClass.INTEGER);
        }
        expect(ops, mad ? 4 : 3);
        b.d = o.destination(ops.get(0));
        b.a = o.source(ops.get(1), t);
        b.b = o.source(ops.get(2), t);
        if (mad) {
            PtxType addend = part.equals("wide") ? widen(t) : t;
            b.c = o.source(ops.get(3), addend);
        }
    }

    private static PtxType widen(PtxType t) {
        switch (t) {
            case U16: return PtxType.U32;
            case S16: return PtxType.S32;
            case U32: return PtxType.U64;
            case S32: return PtxType.S64;
            default: return t;
        }
    }

    private static void divide(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        PtxType t = integerType(m);
        if (t.kind == PtxType.Kind.BITS) {
            throw new DecodeException(name + " needs a signed or unsigned type");
        }
        boolean div = name.equals("div");
        int op = t.isSigned() ? (div ? Opcode.DIV_S : Opcode.REM_S) : (div ? Opcode.DIV_U : Opcode.REM_U);
        b.op(op, t, InstructionClass.INTEGER);
        b.division = true;
        operands(ops, b, o, t, 2);
    }

    private static void minMax(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        PtxType t = integerType(m);
        if (m.take("relu")) {
            throw new DecodeException(".relu is not supported in " + m.opcode());
        }
        boolean signed = t.isSigned();
        boolean min = name.equals("min");
        int op = min ? (signed ? Opcode.MIN_S : Opcode.MIN_U) : (signed ? Opcode.MAX_S : Opcode.MAX_U);
        b.op(op, t, InstructionClass.INTEGER);
        operands(ops, b, o, t, 2);
    }

    private static void unary(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        PtxType t = m.requireType();
        boolean predicate = t == PtxType.PRED;
        if (!predicate) {
            t = checkInteger(t, m);
        }
        int op;
        switch (name) {
            case "abs":
                if (!t.isSigned()) {
                    throw new DecodeException("abs needs a signed type");
                }
                op = Opcode.ABS;
                break;
            case "neg":
                if (!t.isSigned()) {
                    throw new DecodeException("neg needs a signed type");
                }
                op = Opcode.NEG;
                break;
            case "not": op = Opcode.NOT; break;
            default: op = Opcode.CNOT; break;
        }
        if (predicate && op != Opcode.NOT) {
            throw new DecodeException(name + " is not defined on .pred");
        }
        b.op(op, t, predicate ? InstructionClass.OTHER : InstructionClass.INTEGER);
        operands(ops, b, o, t, 1);
    }

    private static PtxType checkInteger(PtxType t, Modifiers m) {
        if (!t.isInteger() || t.bits < 16) {
            throw new DecodeException("unsupported type ." + t.ptxName() + " in " + m.opcode());
        }
        return t;
    }

    private static void logic(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        PtxType t = m.requireType();
        boolean predicate = t == PtxType.PRED;
        if (!predicate) {
            checkInteger(t, m);
        }
        int op = name.equals("and") ? Opcode.AND : name.equals("or") ? Opcode.OR : Opcode.XOR;
        b.op(op, t, predicate ? InstructionClass.OTHER : InstructionClass.INTEGER);
        operands(ops, b, o, t, 2);
    }

    private static void shift(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        PtxType t = integerType(m);
        int op;
        if (name.equals("shl")) {
            op = Opcode.SHL;
        } else {
            op = t.isSigned() ? Opcode.SHR_S : Opcode.SHR_U;
        }
        b.op(op, t, InstructionClass.INTEGER);
        expect(ops, 3);
        b.d = o.destination(ops.get(0));
        b.a = o.source(ops.get(1), t);
        b.b = o.source(ops.get(2), PtxType.U32);
    }
}

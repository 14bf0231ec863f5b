package io.github.batchnorm4j.emulator;

import java.util.List;

/** Decodes mov (scalar, pack, unpack), setp, selp, cvt and cvta. */
final class DataDecoder {
    private DataDecoder() {
    }

    static void decode(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        switch (name) {
            case "mov": mov(m, ops, b, o); break;
            case "setp": setp(m, ops, b, o); break;
            case "selp": selp(m, ops, b, o); break;
            case "cvt": cvt(m, ops, b, o); break;
            case "cvta": cvta(m, ops, b, o); break;
            default: throw new DecodeException("unsupported instruction " + m.opcode());
        }
    }

    private static void mov(Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        PtxType t = m.requireType();
        IntegerDecoder.expect(ops, 2);
        String dst = ops.get(0);
        String src = ops.get(1);
        if (src.startsWith("{") || dst.startsWith("{")) {
            boolean pack = src.startsWith("{");
            int[] parts = pack ? o.vector(src, false, null) : o.vector(dst, true, null);
            if (parts.length < 2 || t.bits % parts.length != 0 || t.isFloat() && t != PtxType.F64) {
                throw new DecodeException("unsupported vector mov");
            }
            b.op(pack ? Opcode.PACK : Opcode.UNPACK, t, InstructionClass.OTHER);
            b.vector = parts;
            b.size = t.bits / parts.length; // element width in bits
            if (pack) {
                b.d = o.destination(dst);
            } else {
                b.a = o.source(src, t);
            }
            return;
        }
        b.op(Opcode.MOV, t, InstructionClass.OTHER);
        b.d = t == PtxType.PRED ? o.predicate(dst) : o.destination(dst);
        b.a = o.source(src, t);
    }

    private static void setp(Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        int compare = -1;
        int combine = Comparisons.BOOL_NONE;
        String bool = m.takeAny("and", "or", "xor");
        if (bool != null) {
            combine = bool.equals("and") ? Comparisons.BOOL_AND : bool.equals("or") ? Comparisons.BOOL_OR
                    : Comparisons.BOOL_XOR;
        }
        for (String c : new String[] {"eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs", "equ",
            "neu", "ltu", "leu", "gtu", "geu", "num", "nan"}) {
            if (m.take(c)) {
                compare = Comparisons.parse(c);
                break;
            }
        }
        if (compare < 0) {
            throw new DecodeException("setp needs a comparison in " + m.opcode());
        }
        boolean ftz = m.take("ftz");
        PtxType t = m.requireType();
        if (t == PtxType.PRED || t.bits < 16 && !t.isFloat()) {
            throw new DecodeException("unsupported type ." + t.ptxName() + " in " + m.opcode());
        }
        if (t.isFloat()) {
            if (compare >= Comparisons.LO && compare <= Comparisons.HS) {
                throw new DecodeException("unsigned comparison on a float type in " + m.opcode());
            }
            b.op(t == PtxType.F32 ? Opcode.SETP_F32 : Opcode.SETP_F64, t,
                    t == PtxType.F32 ? InstructionClass.FP32 : InstructionClass.FP64);
        } else {
            if (compare >= Comparisons.EQU) {
                throw new DecodeException("unordered comparison on an integer type in " + m.opcode());
            }
            if (t.kind == PtxType.Kind.BITS && compare != Comparisons.EQ && compare != Comparisons.NE) {
                throw new DecodeException("only eq and ne compare bit types in " + m.opcode());
            }
            b.op(Opcode.SETP_INT, t, InstructionClass.INTEGER);
        }
        b.sub = compare | (combine << 8);
        b.flags = ftz ? Instruction.FTZ : 0;
        IntegerDecoder.expect(ops, combine == Comparisons.BOOL_NONE ? 3 : 4);
        String[] destinations = ops.get(0).split("\\|");
        b.d = predicateOrSink(destinations[0].trim(), o);
        if (destinations.length > 1) {
            b.d2 = predicateOrSink(destinations[1].trim(), o);
        }
        b.a = o.source(ops.get(1), t);
        b.b = o.source(ops.get(2), t);
        if (combine != Comparisons.BOOL_NONE) {
            String c = ops.get(3);
            if (c.startsWith("!")) {
                b.flags |= Instruction.NEGATE_C;
                c = c.substring(1).trim();
            }
            b.c = c.startsWith("%") ? o.predicate(c) : o.source(c, PtxType.PRED);
        }
    }

    private static int predicateOrSink(String text, Operands o) {
        return text.equals("_") ? o.destination(text) : o.predicate(text);
    }

    private static void selp(Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        PtxType t = m.requireType();
        if (t == PtxType.PRED) {
            throw new DecodeException("selp has no .pred form");
        }
        b.op(Opcode.SELP, t, InstructionClass.OTHER);
        IntegerDecoder.expect(ops, 4);
        b.d = o.destination(ops.get(0));
        b.a = o.source(ops.get(1), t);
        b.b = o.source(ops.get(2), t);
        b.c = o.predicate(ops.get(3));
    }

    private static void cvt(Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        Rounding rounding = m.takeRounding();
        boolean ftz = m.take("ftz");
        boolean sat = m.take("sat");
        PtxType dst = m.requireType();
        PtxType src = m.requireType();
        if (dst == PtxType.PRED || src == PtxType.PRED) {
            throw new DecodeException("cvt has no .pred form");
        }
        if (src.isFloat() && !dst.isFloat() && !rounding.isIntegral()) {
            throw new DecodeException("float-to-integer cvt needs .rni, .rzi, .rmi or .rpi");
        }
        if (!src.isFloat() && !dst.isFloat() && rounding != Rounding.NONE) {
            throw new DecodeException("integer-to-integer cvt takes no rounding");
        }
        if (!src.isFloat() && dst.isFloat() && rounding.isIntegral()) {
            throw new DecodeException("integer-to-float cvt takes .rn, .rz, .rm or .rp");
        }
        InstructionClass cls = src == PtxType.F64 || dst == PtxType.F64 ? InstructionClass.FP64
                : src == PtxType.F32 || dst == PtxType.F32 ? InstructionClass.FP32 : InstructionClass.INTEGER;
        int op = Opcode.CVT_GENERAL;
        if (!src.isFloat() && !dst.isFloat() && !sat) {
            op = Opcode.CVT_INT;
        } else if (src == PtxType.F32 && dst == PtxType.F64 && !ftz && !sat && rounding == Rounding.NONE) {
            op = Opcode.CVT_F64_F32;
        } else if (src == PtxType.F64 && dst == PtxType.F32 && !ftz && !sat && rounding == Rounding.RN) {
            op = Opcode.CVT_F32_F64;
        }
        b.op(op, dst, cls);
        b.sourceType = src;
        b.rounding = rounding;
        b.flags = (ftz ? Instruction.FTZ : 0) | (sat ? Instruction.SAT : 0);
        IntegerDecoder.expect(ops, 2);
        b.d = o.destination(ops.get(0));
        PtxType register = o.registerType(ops.get(0));
        if (register != null && register.bits > dst.bits && !dst.isFloat()) {
            b.registerWidth = register.bits;
        }
        b.a = o.source(ops.get(1), src);
    }

    private static void cvta(Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        boolean to = m.take("to");
        String space = m.takeAny("global", "shared", "shared::cta", "local");
        if (space == null) {
            throw new DecodeException("only global, shared and local cvta are supported: " + m.opcode());
        }
        PtxType t = m.requireType();
        if (t != PtxType.U64 && t != PtxType.B64) {
            throw new DecodeException("cvta needs .u64 with 64-bit addresses: " + m.opcode());
        }
        IntegerDecoder.expect(ops, 2);
        b.d = o.destination(ops.get(0));
        String src = ops.get(1);
        boolean symbol = !src.startsWith("%") && !Character.isDigit(src.charAt(0)) && src.charAt(0) != '-';
        if (space.equals("shared::cta")) {
            space = "shared";
        }
        long window = space.equals("local") ? Operands.LOCAL_WINDOW : Operands.SHARED_WINDOW;
        if (space.equals("global")) {
            b.op(Opcode.MOV, t, InstructionClass.OTHER);
            b.a = o.source(src, t);
        } else if (to) {
            b.op(Opcode.SUB, t, InstructionClass.INTEGER);
            b.a = o.source(src, t);
            b.b = o.source(Long.toString(window), t);
        } else if (symbol) {
            b.op(Opcode.MOV, t, InstructionClass.OTHER);
            b.a = o.source(Long.toString(o.symbolAddress(src, true)), t);
        } else {
            b.op(Opcode.ADD, t, InstructionClass.INTEGER);
            b.a = o.source(src, t);
            b.b = o.source(Long.toString(window), t);
        }
    }
}

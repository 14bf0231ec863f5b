package io.github.batchnorm4j.emulator;

import java.util.List;

/** Decodes the rarer integer instructions that run through {@link IntegerOps#other}. */
final class IntegerOtherDecoder {
    private IntegerOtherDecoder() {
    }

    static void decode(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        switch (name) {
            case "popc": case "clz": case "brev": {
                PtxType t = bitType(m, 32, 64);
                int sub = name.equals("popc") ? IntegerOps.POPC : name.equals("clz") ? IntegerOps.CLZ : IntegerOps.BREV;
                set(b, t, sub);
                IntegerDecoder.operands(ops, b, o, t, 1);
                break;
            }
            case "bfe": {
                PtxType t = IntegerDecoder.integerType(m);
                requireWidths(t, m);
                set(b, t, t.isSigned() ? IntegerOps.BFE_S : IntegerOps.BFE_U);
                IntegerDecoder.expect(ops, 4);
                b.d = o.destination(ops.get(0));
                b.a = o.source(ops.get(1), t);
                b.b = o.source(ops.get(2), PtxType.U32);
                b.c = o.source(ops.get(3), PtxType.U32);
                break;
            }
            case "bfi": {
                PtxType t = bitType(m, 32, 64);
                set(b, t, IntegerOps.BFI);
                IntegerDecoder.expect(ops, 5);
                b.d = o.destination(ops.get(0));
                b.a = o.source(ops.get(1), t);
                b.b = o.source(ops.get(2), t);
                b.c = o.source(ops.get(3), PtxType.U32);
                b.e = o.source(ops.get(4), PtxType.U32);
                break;
            }
            case "bfind": {
                boolean shiftAmount = m.take("shiftamt");
                PtxType t = IntegerDecoder.integerType(m);
                requireWidths(t, m);
                int sub = t.isSigned() ? (shiftAmount ? IntegerOps.BFIND_S_SHIFT : IntegerOps.BFIND_S)
                        : (shiftAmount ? IntegerOps.BFIND_U_SHIFT : IntegerOps.BFIND_U);
                set(b, t, sub);
                IntegerDecoder.operands(ops, b, o, t, 1);
                break;
            }
            case "prmt": {
                PtxType t = bitType(m, 32, 32);
                set(b, t, IntegerOps.PRMT);
                IntegerDecoder.operands(ops, b, o, t, 3);
                break;
            }
            case "lop3": {
                PtxType t = bitType(m, 32, 64);
                set(b, t, IntegerOps.LOP3);
                IntegerDecoder.expect(ops, 5);
                b.d = o.destination(ops.get(0));
                b.a = o.source(ops.get(1), t);
                b.b = o.source(ops.get(2), t);
                b.c = o.source(ops.get(3), t);
                b.e = o.source(ops.get(4), PtxType.U32);
                break;
            }
            case "sad": {
                PtxType t = IntegerDecoder.integerType(m);
                set(b, t, t.isSigned() ? IntegerOps.SAD_S : IntegerOps.SAD_U);
                IntegerDecoder.operands(ops, b, o, t, 3);
                break;
            }
            case "mul24": case "mad24": {
                String part = m.takeAny("lo", "hi");
                if (part == null) {
                    throw new DecodeException(name + " needs .lo or .hi");
                }
                boolean high = part.equals("hi");
                PtxType t = IntegerDecoder.integerType(m);
                if (t != PtxType.U32 && t != PtxType.S32) {
                    throw new DecodeException(name + " needs .u32 or .s32");
                }
                boolean signed = t.isSigned();
                int sub = name.equals("mul24")
                        ? (high ? (signed ? IntegerOps.MUL24_HI_S : IntegerOps.MUL24_HI_U)
                                : (signed ? IntegerOps.MUL24_LO_S : IntegerOps.MUL24_LO_U))
                        : (high ? (signed ? IntegerOps.MAD24_HI_S : IntegerOps.MAD24_HI_U)
                                : (signed ? IntegerOps.MAD24_LO_S : IntegerOps.MAD24_LO_U));
                set(b, t, sub);
                IntegerDecoder.operands(ops, b, o, t, name.equals("mul24") ? 2 : 3);
                break;
            }
            default:
                throw new DecodeException("unsupported instruction " + m.opcode());
        }
    }

    private static void set(Instruction.Builder b, PtxType t, int sub) {
        b.op(Opcode.INT_OTHER, t, InstructionClass.INTEGER);
        b.sub = sub;
    }

    private static PtxType bitType(Modifiers m, int minBits, int maxBits) {
        PtxType t = IntegerDecoder.integerType(m);
        if (t.bits < minBits || t.bits > maxBits) {
            throw new DecodeException("unsupported type ." + t.ptxName() + " in " + m.opcode());
        }
        return t;
    }

    private static void requireWidths(PtxType t, Modifiers m) {
        if (t.bits != 32 && t.bits != 64) {
            throw new DecodeException("unsupported type ." + t.ptxName() + " in " + m.opcode());
        }
    }
}

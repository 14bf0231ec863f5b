package io.github.batchnorm4j.emulator;

import java.util.List;

/**
 * Decodes .f32 and .f64 arithmetic. Round-to-nearest forms without .ftz or .sat get the fast
 * opcodes; everything else runs through {@link FloatOps}.
 */
final class FloatDecoder {
    private FloatDecoder() {
    }

    static boolean handles(String name) {
        switch (name) {
            case "fma": case "sqrt": case "rcp": case "rsqrt": case "sin": case "cos": case "lg2":
            case "ex2": case "tanh": case "copysign": case "testp":
                return true;
            default:
                return false;
        }
    }

    static void decode(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        if (name.equals("testp")) {
            testp(m, ops, b, o);
            return;
        }
        Rounding rounding = m.takeRounding();
        if (rounding.isIntegral()) {
            throw new DecodeException("integer rounding ." + rounding.name().toLowerCase() + " in " + m.opcode());
        }
        boolean ftz = m.take("ftz");
        boolean sat = m.take("sat");
        boolean approx = m.take("approx") | m.take("full");
        boolean nan = m.take("NaN");
        PtxType t = m.requireType();
        if (t != PtxType.F32 && t != PtxType.F64) {
            throw new DecodeException("unsupported type ." + t.ptxName() + " in " + m.opcode());
        }
        boolean single = t == PtxType.F32;
        int sub;
        int sources;
        switch (name) {
            case "add": sub = FloatOps.ADD; sources = 2; break;
            case "sub": sub = FloatOps.SUB; sources = 2; break;
            case "mul": sub = FloatOps.MUL; sources = 2; break;
            case "fma": case "mad": sub = FloatOps.FMA; sources = 3; break;
            case "div": sub = FloatOps.DIV; sources = 2; break;
            case "abs": sub = FloatOps.ABS; sources = 1; break;
            case "neg": sub = FloatOps.NEG; sources = 1; break;
            case "min": sub = nan ? FloatOps.MIN_NAN : FloatOps.MIN; sources = 2; break;
            case "max": sub = nan ? FloatOps.MAX_NAN : FloatOps.MAX; sources = 2; break;
            case "sqrt": sub = FloatOps.SQRT; sources = 1; break;
            case "rcp": sub = FloatOps.RCP; sources = 1; break;
            case "rsqrt": sub = FloatOps.RSQRT; sources = 1; break;
            case "copysign": sub = FloatOps.COPYSIGN; sources = 2; break;
            case "sin": sub = FloatOps.SIN; sources = 1; break;
            case "cos": sub = FloatOps.COS; sources = 1; break;
            case "lg2": sub = FloatOps.LG2; sources = 1; break;
            case "ex2": sub = FloatOps.EX2; sources = 1; break;
            case "tanh": sub = FloatOps.TANH; sources = 1; break;
            default: throw new DecodeException("unsupported instruction " + m.opcode());
        }
        if (!single && (sub == FloatOps.SIN || sub == FloatOps.COS || sub == FloatOps.LG2
                || sub == FloatOps.EX2 || sub == FloatOps.TANH)) {
            throw new DecodeException(name + " has no .f64 form");
        }
        if (nan && sub != FloatOps.MIN_NAN && sub != FloatOps.MAX_NAN) {
            throw new DecodeException(".NaN only applies to min and max");
        }
        boolean plain = (rounding == Rounding.NONE || rounding == Rounding.RN) && !ftz && !sat && !nan
                && !approx;
        int op = plain ? fastOpcode(sub, single) : 0;
        if (op == 0) {
            op = single ? Opcode.F32_GENERAL : Opcode.F64_GENERAL;
        }
        b.op(op, t, single ? InstructionClass.FP32 : InstructionClass.FP64);
        b.sub = sub;
        b.rounding = rounding;
        b.flags = (ftz ? Instruction.FTZ : 0) | (sat ? Instruction.SAT : 0) | (approx ? Instruction.APPROX : 0);
        IntegerDecoder.operands(ops, b, o, t, sources);
    }

    private static int fastOpcode(int sub, boolean single) {
        switch (sub) {
            case FloatOps.ADD: return single ? Opcode.ADD_F32 : Opcode.ADD_F64;
            case FloatOps.SUB: return single ? Opcode.SUB_F32 : Opcode.SUB_F64;
            case FloatOps.MUL: return single ? Opcode.MUL_F32 : Opcode.MUL_F64;
            case FloatOps.FMA: return single ? Opcode.FMA_F32 : Opcode.FMA_F64;
            case FloatOps.DIV: return single ? Opcode.DIV_F32 : Opcode.DIV_F64;
            case FloatOps.ABS: return single ? Opcode.ABS_F32 : Opcode.ABS_F64;
            case FloatOps.NEG: return single ? Opcode.NEG_F32 : Opcode.NEG_F64;
            case FloatOps.MIN: return single ? Opcode.MIN_F32 : Opcode.MIN_F64;
            case FloatOps.MAX: return single ? Opcode.MAX_F32 : Opcode.MAX_F64;
            case FloatOps.SQRT: return single ? 0 : Opcode.SQRT_F64;
            case FloatOps.RCP: return single ? 0 : Opcode.RCP_F64;
            default: return 0;
        }
    }

    private static void testp(Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        String test = m.takeAny("finite", "infinite", "number", "notanumber", "normal", "subnormal");
        if (test == null) {
            throw new DecodeException("testp needs a test in " + m.opcode());
        }
        PtxType t = m.requireType();
        if (t != PtxType.F32 && t != PtxType.F64) {
            throw new DecodeException("unsupported type ." + t.ptxName() + " in " + m.opcode());
        }
        int sub;
        switch (test) {
            case "finite": sub = FloatOps.TESTP_FINITE; break;
            case "infinite": sub = FloatOps.TESTP_INFINITE; break;
            case "number": sub = FloatOps.TESTP_NUMBER; break;
            case "notanumber": sub = FloatOps.TESTP_NOTANUMBER; break;
            case "normal": sub = FloatOps.TESTP_NORMAL; break;
            default: sub = FloatOps.TESTP_SUBNORMAL; break;
        }
        boolean single = t == PtxType.F32;
        b.op(single ? Opcode.F32_GENERAL : Opcode.F64_GENERAL, t,
                single ? InstructionClass.FP32 : InstructionClass.FP64);
        b.sub = sub;
        IntegerDecoder.expect(ops, 2);
        b.d = o.predicate(ops.get(0));
        b.a = o.source(ops.get(1), t);
    }
}

package io.github.batchnorm4j.emulator;

import java.util.List;

/** Decodes bra, bar.sync, shfl.sync, vote.sync, ret, exit, trap, membar, fence and the hints nanosleep and prefetch. */
final class ControlDecoder {
    static final int SHFL_UP = 0;
    static final int SHFL_DOWN = 1;
    static final int SHFL_BFLY = 2;
    static final int SHFL_IDX = 3;

    static final int VOTE_ALL = 0;
    static final int VOTE_ANY = 1;
    static final int VOTE_UNI = 2;
    static final int VOTE_BALLOT = 3;

    private ControlDecoder() {
    }

    static boolean handles(String name) {
        switch (name) {
            case "bra": case "bar": case "barrier": case "shfl": case "vote": case "ret": case "exit":
            case "trap": case "membar": case "fence": case "nanosleep": case "prefetch":
                return true;
            default:
                return false;
        }
    }

    static void decode(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        switch (name) {
            case "bra":
                m.take("uni");
                IntegerDecoder.expect(ops, 1);
                b.op(Opcode.BRA, null, InstructionClass.CONTROL);
                b.target = o.label(ops.get(0));
                break;
            case "bar": case "barrier":
                barrier(m, ops, b, o);
                break;
            case "shfl":
                shuffle(m, ops, b, o);
                break;
            case "vote":
                vote(m, ops, b, o);
                break;
            case "ret": case "exit":
                m.take("uni");
                IntegerDecoder.expect(ops, 0);
                b.op(Opcode.EXIT, null, InstructionClass.CONTROL);
                break;
            case "trap":
                IntegerDecoder.expect(ops, 0);
                b.op(Opcode.TRAP, null, InstructionClass.CONTROL);
                break;
            case "nanosleep":
                // A scheduling hint: threads here run one at a time anyway.
                m.take("u32");
                IntegerDecoder.expect(ops, 1);
                b.op(Opcode.NOP, null, InstructionClass.OTHER);
                b.a = o.source(ops.get(0), PtxType.U32);
                break;
            case "prefetch":
                // A cache hint with no effect on results.
                m.takeAny("global", "local");
                m.takePrefixed("L1");
                m.takePrefixed("L2");
                IntegerDecoder.expect(ops, 1);
                b.op(Opcode.NOP, null, InstructionClass.MEMORY);
                b.a = o.address(ops.get(0), StateSpace.GENERIC).base();
                break;
            default:
                fence(name, m, ops, b);
                break;
        }
    }

    private static void barrier(Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        m.take("cta");
        if (!m.take("sync")) {
            throw new DecodeException("only bar.sync / barrier.sync are supported: " + m.opcode());
        }
        m.take("aligned");
        if (ops.size() != 1) {
            throw new DecodeException("bar.sync with a thread count is not supported");
        }
        if (!Character.isDigit(ops.get(0).charAt(0))) {
            throw new DecodeException("bar.sync needs a constant barrier number");
        }
        b.op(Opcode.BAR_SYNC, null, InstructionClass.CONTROL);
        b.sub = (int) Immediates.parseInteger(ops.get(0));
        if (b.sub < 0 || b.sub > 15) {
            throw new DecodeException("barrier number out of range 0..15");
        }
    }

    private static void shuffle(Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        if (!m.take("sync")) {
            throw new DecodeException("shfl without .sync is not supported on sm_70 and later");
        }
        String mode = m.takeAny("up", "down", "bfly", "idx");
        if (mode == null) {
            throw new DecodeException("shfl.sync needs .up, .down, .bfly or .idx");
        }
        PtxType t = m.requireType();
        if (t != PtxType.B32) {
            throw new DecodeException("shfl.sync needs .b32");
        }
        b.op(Opcode.SHFL, t, InstructionClass.CONTROL);
        b.sub = mode.equals("up") ? SHFL_UP : mode.equals("down") ? SHFL_DOWN
                : mode.equals("bfly") ? SHFL_BFLY : SHFL_IDX;
        IntegerDecoder.expect(ops, 5);
        String[] destinations = ops.get(0).split("\\|");
        b.d = o.destination(destinations[0].trim());
        if (destinations.length > 1) {
            b.d2 = destinations[1].trim().equals("_") ? o.destination("_") : o.predicate(destinations[1].trim());
        }
        b.a = o.source(ops.get(1), PtxType.B32);
        b.b = o.source(ops.get(2), PtxType.B32);
        b.c = o.source(ops.get(3), PtxType.B32);
        b.e = o.source(ops.get(4), PtxType.B32);
    }

    private static void vote(Modifiers m, List<String> ops, Instruction.Builder b, Operands o) {
        if (!m.take("sync")) {
            throw new DecodeException("vote without .sync is not supported on sm_70 and later");
        }
        String mode = m.takeAny("all", "any", "uni", "ballot");
        if (mode == null) {
            throw new DecodeException("vote.sync needs .all, .any, .uni or .ballot");
        }
        PtxType t = m.requireType();
        boolean ballot = mode.equals("ballot");
        if (ballot ? t != PtxType.B32 : t != PtxType.PRED) {
            throw new DecodeException("unsupported type ." + t.ptxName() + " for vote." + mode);
        }
        b.op(Opcode.VOTE, t, InstructionClass.CONTROL);
        b.sub = mode.equals("all") ? VOTE_ALL : mode.equals("any") ? VOTE_ANY : mode.equals("uni") ? VOTE_UNI
                : VOTE_BALLOT;
        IntegerDecoder.expect(ops, 3);
        b.d = ballot ? o.destination(ops.get(0)) : o.predicate(ops.get(0));
        String a = ops.get(1);
        if (a.startsWith("!")) {
            b.flags |= Instruction.NEGATE_C;
            a = a.substring(1).trim();
        }
        b.a = a.startsWith("%") ? o.predicate(a) : o.source(a, PtxType.PRED);
        b.e = o.source(ops.get(2), PtxType.B32);
    }

    private static void fence(String name, Modifiers m, List<String> ops, Instruction.Builder b) {
        IntegerDecoder.expect(ops, 0);
        String scope;
        if (name.equals("membar")) {
            scope = m.takeAny("cta", "gl", "sys");
        } else {
            m.takeAny("sc", "acq_rel");
            scope = m.takeAny("cta", "gpu", "sys", "cluster");
        }
        if (scope == null) {
            throw new DecodeException(name + " needs a scope in " + m.opcode());
        }
        // A fence at block scope orders nothing the interpreter could reorder; wider ones are
        // reported to the global memory, which may check fence-dependent protocols.
        b.op(scope.equals("cta") ? Opcode.NOP : Opcode.FENCE, null, InstructionClass.OTHER);
    }
}

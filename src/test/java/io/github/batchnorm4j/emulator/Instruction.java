package io.github.batchnorm4j.emulator;

/**
 * One PTX instruction decoded once at module load: every operand is a register-file slot
 * (immediates, special registers and symbol addresses have slots of their own, filled before a
 * thread starts), branch targets are instruction indices, and types are reduced to masks and
 * shifts, so the {@link Executor} does no parsing and no allocation.
 */
final class Instruction {
    static final int FTZ = 1;
    static final int SAT = 2;
    /** setp: the combining predicate c is negated ({@code !%p}). */
    static final int NEGATE_C = 4;
    /** The .approx form of a floating-point operation (computed exactly here). */
    static final int APPROX = 8;

    final int op;
    /** A sub-operation for opcode families (compare, atomic, shuffle mode, float op). */
    final int sub;
    final int flags;
    /** Guard predicate slot, or -1 when the instruction always executes. */
    final int guard;
    final boolean guardNegated;
    final int d;
    /** Second destination ({@code setp p|q}, {@code shfl d|p}), or -1. */
    final int d2;
    final int a;
    final int b;
    final int c;
    final int e;
    /** The low bits of the instruction's type (the destination's, for conversions). */
    final long mask;
    /** 64 minus the operand width: {@code (v << shift) >> shift} sign-extends an operand. */
    final int shift;
    final int width;
    /** The destination register's own mask, wider than {@link #mask} for a narrow load or conversion. */
    final long registerMask;
    final PtxType type;
    /** The source type of a conversion. */
    final PtxType sourceType;
    final Rounding rounding;
    // Memory.
    final StateSpace space;
    final AccessKind accessKind;
    /** Bytes of one memory element; for mov pack/unpack, bits of one vector element. */
    final int size;
    final long displacement;
    /** Registers of a vector operand, or null. */
    final int[] vector;
    /** Loads: sign-extend the loaded element (a .s8/.s16/.s32 load into a wider register). */
    final boolean signExtend;
    /** Index of this instruction among the kernel's global-memory instructions, or -1. */
    final int memorySlot;
    // Control.
    final int target;
    // Statistics and diagnostics.
    final InstructionClass statisticsClass;
    final boolean division;
    final String text;
    final int line;

    private Instruction(Builder b) {
        op = b.op;
        sub = b.sub;
        flags = b.flags;
        guard = b.guard;
        guardNegated = b.guardNegated;
        d = b.d;
        d2 = b.d2;
        a = b.a;
        this.b = b.b;
        c = b.c;
        e = b.e;
        type = b.type;
        sourceType = b.sourceType;
        width = b.width;
        mask = b.width == 64 ? -1L : (1L << b.width) - 1;
        shift = 64 - b.width;
        int registerWidth = Math.max(b.width, b.registerWidth);
        registerMask = registerWidth == 64 ? -1L : (1L << registerWidth) - 1;
        rounding = b.rounding;
        space = b.space;
        accessKind = b.accessKind;
        size = b.size;
        displacement = b.displacement;
        vector = b.vector;
        signExtend = b.signExtend;
        memorySlot = b.memorySlot;
        target = b.target;
        statisticsClass = b.statisticsClass;
        division = b.division;
        text = b.text;
        line = b.line;
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** "text (line N)", as diagnostics quote it. */
    String where() {
        return "'" + text + "' (line " + line + ")";
    }

    @Override
    public String toString() {
        return where();
    }

    /** Collects the fields while a decoder works through the operands. */
    static final class Builder {
        int op;
        int sub;
        int flags;
        int guard = -1;
        boolean guardNegated;
        int d = -1;
        int d2 = -1;
        int a = -1;
        int b = -1;
        int c = -1;
        int e = -1;
        PtxType type;
        PtxType sourceType;
        int width = 64;
        int registerWidth;
        Rounding rounding = Rounding.NONE;
        StateSpace space;
        AccessKind accessKind;
        int size;
        long displacement;
        int[] vector;
        boolean signExtend;
        int memorySlot = -1;
        int target = -1;
        InstructionClass statisticsClass = InstructionClass.OTHER;
        boolean division;
        final String text;
        final int line;

        Builder(String text, int line) {
            this.text = text;
            this.line = line;
        }

        Builder op(int opcode, PtxType t, InstructionClass cls) {
            op = opcode;
            type = t;
            if (t != null && t != PtxType.PRED) {
                width = t.bits;
            } else if (t == PtxType.PRED) {
                width = 1;
            }
            statisticsClass = cls;
            return this;
        }

        Instruction build() {
            return new Instruction(this);
        }
    }
}

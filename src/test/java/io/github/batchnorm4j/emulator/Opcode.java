package io.github.batchnorm4j.emulator;

/**
 * The operations the {@link Executor} switches on, one per semantic (integer widths and
 * signedness are carried by the instruction's mask and shift, not by the opcode). Frequent
 * floating-point forms with default modifiers have their own opcode; any other rounding, .ftz or
 * .sat goes through the F32/F64 general opcodes.
 */
final class Opcode {
    private Opcode() {
    }

    // Data movement.
    static final int MOV = 1;
    static final int PACK = 2;
    static final int UNPACK = 3;
    static final int SELP = 4;

    // Integer arithmetic and logic: operands are masked or sign-extended by the instruction's width.
    static final int ADD = 10;
    static final int SUB = 11;
    static final int MUL_LO = 12;
    static final int MUL_HI_S = 13;
    static final int MUL_HI_U = 14;
    static final int MUL_WIDE_S = 15;
    static final int MUL_WIDE_U = 16;
    static final int MAD_LO = 17;
    static final int MAD_HI_S = 18;
    static final int MAD_HI_U = 19;
    static final int MAD_WIDE_S = 20;
    static final int MAD_WIDE_U = 21;
    static final int DIV_S = 22;
    static final int DIV_U = 23;
    static final int REM_S = 24;
    static final int REM_U = 25;
    static final int MIN_S = 26;
    static final int MIN_U = 27;
    static final int MAX_S = 28;
    static final int MAX_U = 29;
    static final int ABS = 30;
    static final int NEG = 31;
    static final int NOT = 32;
    static final int AND = 33;
    static final int OR = 34;
    static final int XOR = 35;
    static final int CNOT = 36;
    static final int SHL = 37;
    static final int SHR_S = 38;
    static final int SHR_U = 39;
    /** Less frequent integer operations, {@link IntegerOps#other}: sub-operation in {@code sub}. */
    static final int INT_OTHER = 40;

    // Comparison.
    static final int SETP_INT = 50;
    static final int SETP_F32 = 51;
    static final int SETP_F64 = 52;

    // Single precision, round to nearest, no .ftz or .sat.
    static final int ADD_F32 = 60;
    static final int SUB_F32 = 61;
    static final int MUL_F32 = 62;
    static final int FMA_F32 = 63;
    static final int DIV_F32 = 64;
    static final int ABS_F32 = 65;
    static final int NEG_F32 = 66;
    static final int MIN_F32 = 67;
    static final int MAX_F32 = 68;
    static final int F32_GENERAL = 69;

    // Double precision, round to nearest.
    static final int ADD_F64 = 70;
    static final int SUB_F64 = 71;
    static final int MUL_F64 = 72;
    static final int FMA_F64 = 73;
    static final int DIV_F64 = 74;
    static final int ABS_F64 = 75;
    static final int NEG_F64 = 76;
    static final int MIN_F64 = 77;
    static final int MAX_F64 = 78;
    static final int SQRT_F64 = 79;
    static final int RCP_F64 = 80;
    static final int F64_GENERAL = 81;

    // Conversion.
    static final int CVT_INT = 90;
    static final int CVT_F64_F32 = 91;
    static final int CVT_F32_F64 = 92;
    static final int CVT_GENERAL = 93;

    // Memory.
    static final int LD_PARAM = 100;
    static final int LD_GLOBAL = 101;
    static final int ST_GLOBAL = 102;
    static final int LD_SHARED = 103;
    static final int ST_SHARED = 104;
    static final int LD_GENERIC = 105;
    static final int ST_GENERIC = 106;
    static final int LD_VECTOR = 107;
    static final int ST_VECTOR = 108;
    static final int ATOM = 109;
    static final int FENCE = 110;
    static final int NOP = 111;
    static final int LD_LOCAL = 112;
    static final int ST_LOCAL = 113;

    // Control.
    static final int BRA = 120;
    static final int BAR_SYNC = 121;
    static final int SHFL = 122;
    static final int VOTE = 123;
    static final int EXIT = 124;
    static final int TRAP = 125;
}

package io.github.batchnorm4j.emulator;

/**
 * setp: the comparison operators and the optional boolean combination with a third predicate
 * ({@code setp.lt.and.s32 p|q, a, b, c} gives p = (a < b) and c, q = !(a < b) and c).
 */
final class Comparisons {
    static final int EQ = 0;
    static final int NE = 1;
    static final int LT = 2;
    static final int LE = 3;
    static final int GT = 4;
    static final int GE = 5;
    static final int LO = 6;
    static final int LS = 7;
    static final int HI = 8;
    static final int HS = 9;
    static final int EQU = 10;
    static final int NEU = 11;
    static final int LTU = 12;
    static final int LEU = 13;
    static final int GTU = 14;
    static final int GEU = 15;
    static final int NUM = 16;
    static final int NAN = 17;

    static final int BOOL_NONE = 0;
    static final int BOOL_AND = 1;
    static final int BOOL_OR = 2;
    static final int BOOL_XOR = 3;

    private static final String[] NAMES = {"eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs",
        "equ", "neu", "ltu", "leu", "gtu", "geu", "num", "nan"};

    private Comparisons() {
    }

    /** The operator's code, or -1. */
    static int parse(String name) {
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    static boolean integer(int op, long a, long b, int shift, boolean signed) {
        if (op >= LO) {
            op -= LO - LT; // lo, ls, hi, hs: the unsigned lt, le, gt, ge
            signed = false;
        }
        int cmp;
        if (signed) {
            cmp = Long.compare((a << shift) >> shift, (b << shift) >> shift);
        } else {
            cmp = Long.compareUnsigned((a << shift) >>> shift, (b << shift) >>> shift);
        }
        switch (op) {
            case EQ: return cmp == 0;
            case NE: return cmp != 0;
            case LT: return cmp < 0;
            case LE: return cmp <= 0;
            case GT: return cmp > 0;
            default: return cmp >= 0;
        }
    }

    /** Ordered operators are false when either operand is NaN, unordered ones true. */
    static boolean floating(int op, double x, double y) {
        switch (op) {
            case EQ: return x == y;
            case NE: return x != y && x == x && y == y;
            case LT: return x < y;
            case LE: return x <= y;
            case GT: return x > y;
            case GE: return x >= y;
            case EQU: return x == y || x != x || y != y;
            case NEU: return x != y;
            case LTU: return !(x >= y);
            case LEU: return !(x > y);
            case GTU: return !(x <= y);
            case GEU: return !(x < y);
            case NUM: return x == x && y == y;
            case NAN: return x != x || y != y;
            default: throw new IllegalStateException("compare " + op);
        }
    }

    /** Writes p (and q, if present) from the comparison's result t. */
    static void write(Instruction in, long[] r, boolean t) {
        int combine = in.sub >>> 8;
        if (combine == BOOL_NONE) {
            r[in.d] = t ? 1 : 0;
            if (in.d2 >= 0) {
                r[in.d2] = t ? 0 : 1;
            }
            return;
        }
        boolean c = (r[in.c] != 0) != in.has(Instruction.NEGATE_C);
        r[in.d] = combine(combine, t, c) ? 1 : 0;
        if (in.d2 >= 0) {
            r[in.d2] = combine(combine, !t, c) ? 1 : 0;
        }
    }

    private static boolean combine(int op, boolean t, boolean c) {
        switch (op) {
            case BOOL_AND: return t && c;
            case BOOL_OR: return t || c;
            default: return t ^ c;
        }
    }
}

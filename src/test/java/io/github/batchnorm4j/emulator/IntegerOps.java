package io.github.batchnorm4j.emulator;

/**
 * Integer operations with PTX semantics that are too long or too rare for the {@link Executor}'s
 * switch: division (with PTX's unspecified cases made deterministic), saturation, bit-field and
 * byte operations. Operands are raw register values; the instruction's width says how to read them.
 */
final class IntegerOps {
    static final int ADD_SAT = 1;
    static final int SUB_SAT = 2;
    static final int MAD_HI_SAT = 3;
    static final int POPC = 4;
    static final int CLZ = 5;
    static final int BREV = 6;
    static final int BFE_U = 7;
    static final int BFE_S = 8;
    static final int BFI = 9;
    static final int BFIND_U = 10;
    static final int BFIND_S = 11;
    static final int BFIND_U_SHIFT = 12;
    static final int BFIND_S_SHIFT = 13;
    static final int PRMT = 14;
    static final int LOP3 = 15;
    static final int SAD_U = 16;
    static final int SAD_S = 17;
    static final int MUL24_LO_U = 18;
    static final int MUL24_LO_S = 19;
    static final int MUL24_HI_U = 20;
    static final int MUL24_HI_S = 21;
    static final int MAD24_LO_U = 22;
    static final int MAD24_LO_S = 23;
    static final int MAD24_HI_U = 24;
    static final int MAD24_HI_S = 25;

    private IntegerOps() {
    }

    static long signed(long v, int shift) {
        return (v << shift) >> shift;
    }

    static long unsigned(long v, int shift) {
        return (v << shift) >>> shift;
    }

    /**
     * div.s: PTX leaves division by zero unspecified; here it is all ones (-1), as for div.u, and
     * MIN / -1 wraps to MIN. Nothing is reported: the hardware reports nothing either.
     */
    static long divSigned(long a, long b, int shift, long mask) {
        long x = signed(a, shift);
        long y = signed(b, shift);
        if (y == 0) {
            return mask;
        }
        return (x / y) & mask;
    }

    /** div.u: division by zero gives all ones. */
    static long divUnsigned(long a, long b, int shift, long mask) {
        long x = unsigned(a, shift);
        long y = unsigned(b, shift);
        if (y == 0) {
            return mask;
        }
        return Long.divideUnsigned(x, y) & mask;
    }

    /** rem.s: remainder by zero gives the dividend; the sign follows the dividend (C semantics). */
    static long remSigned(long a, long b, int shift, long mask) {
        long x = signed(a, shift);
        long y = signed(b, shift);
        if (y == 0) {
            return x & mask;
        }
        return (x % y) & mask;
    }

    /** rem.u: remainder by zero gives the dividend. */
    static long remUnsigned(long a, long b, int shift, long mask) {
        long x = unsigned(a, shift);
        long y = unsigned(b, shift);
        if (y == 0) {
            return x;
        }
        return Long.remainderUnsigned(x, y) & mask;
    }

    /** The high half of the product: 64-bit operands need the 128-bit product. */
    static long mulHigh(long a, long b, Instruction in, boolean signed) {
        int width = in.width;
        if (width == 64) {
            long high = Math.multiplyHigh(a, b);
            if (!signed) {
                high += ((a >> 63) & b) + ((b >> 63) & a);
            }
            return high;
        }
        long x = signed ? signed(a, in.shift) : unsigned(a, in.shift);
        long y = signed ? signed(b, in.shift) : unsigned(b, in.shift);
        return ((x * y) >> width) & in.mask;
    }

    /** The instructions behind {@link Opcode#INT_OTHER}; the result is masked to its destination. */
    static long other(Instruction in, long[] r) {
        long a = r[in.a];
        long b = in.b >= 0 ? r[in.b] : 0;
        long c = in.c >= 0 ? r[in.c] : 0;
        int width = in.width;
        int msb = width - 1;
        switch (in.sub) {
            case ADD_SAT: return saturate32((long) (int) a + (int) b);
            case SUB_SAT: return saturate32((long) (int) a - (int) b);
            case MAD_HI_SAT: return saturate32((((long) (int) a * (int) b) >> 32) + (int) c);
            case POPC: return Long.bitCount(a & in.mask);
            case CLZ: return width == 32 ? Integer.numberOfLeadingZeros((int) a) : Long.numberOfLeadingZeros(a);
            case BREV: return width == 32 ? Integer.reverse((int) a) & 0xFFFFFFFFL : Long.reverse(a);
            case BFE_U: case BFE_S: return bitFieldExtract(a, (int) (b & 0xFF), (int) (c & 0xFF), msb,
                    in.sub == BFE_S) & in.mask;
            case BFI: return bitFieldInsert(a, b, (int) (c & 0xFF), (int) (r[in.e] & 0xFF), msb) & in.mask;
            case BFIND_U: case BFIND_S: case BFIND_U_SHIFT: case BFIND_S_SHIFT:
                return findMostSignificant(a, in.sub, in.shift, msb);
            case PRMT: return permute((int) a, (int) b, (int) c) & 0xFFFFFFFFL;
            case LOP3: return lookup3(a, b, c, (int) r[in.e]) & in.mask;
            case SAD_U: return (c + Math.abs(unsigned(a, in.shift) - unsigned(b, in.shift))) & in.mask;
            case SAD_S: return (c + Math.abs(signed(a, in.shift) - signed(b, in.shift))) & in.mask;
            default: return multiply24(in.sub, a, b, c);
        }
    }

    private static long saturate32(long v) {
        return Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v)) & 0xFFFFFFFFL;
    }

    private static long bitFieldExtract(long a, int pos, int len, int msb, boolean signed) {
        long sbit = 0;
        if (signed && len > 0) {
            sbit = (a >>> Math.min(pos + len - 1, msb)) & 1;
        }
        long d = 0;
        for (int i = 0; i <= msb; i++) {
            long bit = (i < len && pos + i <= msb) ? (a >>> (pos + i)) & 1 : sbit;
            d |= bit << i;
        }
        return d;
    }

    private static long bitFieldInsert(long a, long b, int pos, int len, int msb) {
        long f = b;
        for (int i = 0; i < len && pos + i <= msb; i++) {
            long bit = 1L << (pos + i);
            f = ((a >>> i) & 1) != 0 ? f | bit : f & ~bit;
        }
        return f;
    }

    private static long findMostSignificant(long a, int sub, int shift, int msb) {
        boolean signed = sub == BFIND_S || sub == BFIND_S_SHIFT;
        long v = signed ? signed(a, shift) : unsigned(a, shift);
        if (signed && v < 0) {
            v = ~v;
        }
        if (v == 0) {
            return 0xFFFFFFFFL;
        }
        int position = 63 - Long.numberOfLeadingZeros(v);
        boolean shiftAmount = sub == BFIND_U_SHIFT || sub == BFIND_S_SHIFT;
        return shiftAmount ? msb - position : position;
    }

    /** prmt.b32 in its default mode: each selector nibble picks one of the 8 bytes {b, a}. */
    private static int permute(int a, int b, int selector) {
        long bytes = (a & 0xFFFFFFFFL) | ((b & 0xFFFFFFFFL) << 32);
        int d = 0;
        for (int i = 0; i < 4; i++) {
            int sel = (selector >>> (4 * i)) & 0xF;
            int value = (int) (bytes >>> (8 * (sel & 7))) & 0xFF;
            if ((sel & 8) != 0) {
                value = (value & 0x80) != 0 ? 0xFF : 0;
            }
            d |= value << (8 * i);
        }
        return d;
    }

    private static long lookup3(long a, long b, long c, int lut) {
        long d = 0;
        for (int k = 0; k < 8; k++) {
            if (((lut >>> k) & 1) != 0) {
                long term = ((k & 4) != 0 ? a : ~a) & ((k & 2) != 0 ? b : ~b) & ((k & 1) != 0 ? c : ~c);
                d |= term;
            }
        }
        return d;
    }

    private static long multiply24(int sub, long a, long b, long c) {
        boolean signed = sub == MUL24_LO_S || sub == MUL24_HI_S || sub == MAD24_LO_S || sub == MAD24_HI_S;
        long x = signed ? signed(a, 40) : a & 0xFFFFFF;
        long y = signed ? signed(b, 40) : b & 0xFFFFFF;
        long product = x * y;
        boolean high = sub == MUL24_HI_U || sub == MUL24_HI_S || sub == MAD24_HI_U || sub == MAD24_HI_S;
        long part = high ? product >> 16 : product;
        boolean mad = sub >= MAD24_LO_U;
        return (part + (mad ? c : 0)) & 0xFFFFFFFFL;
    }
}

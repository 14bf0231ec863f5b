package io.github.batchnorm4j.emulator;

/**
 * The read-modify-write of atom and red: the new memory value from the old one and the operands.
 * atom.add.f32 flushes subnormal inputs and results to zero, as the PTX ISA specifies.
 */
final class AtomicOps {
    static final int AND = 1;
    static final int OR = 2;
    static final int XOR = 3;
    static final int CAS = 4;
    static final int EXCH = 5;
    static final int ADD = 6;
    static final int INC = 7;
    static final int DEC = 8;
    static final int MIN = 9;
    static final int MAX = 10;

    private AtomicOps() {
    }

    static int parse(String name) {
        switch (name) {
            case "and": return AND;
            case "or": return OR;
            case "xor": return XOR;
            case "cas": return CAS;
            case "exch": return EXCH;
            case "add": return ADD;
            case "inc": return INC;
            case "dec": return DEC;
            case "min": return MIN;
            case "max": return MAX;
            default: return -1;
        }
    }

    /** The value to store; {@code old} and the result are the low bytes of the access, zero-extended. */
    static long apply(Instruction in, long old, long b, long c) {
        PtxType t = in.type;
        long mask = in.mask;
        int shift = in.shift;
        switch (in.sub) {
            case AND: return old & b & mask;
            case OR: return (old | b) & mask;
            case XOR: return (old ^ b) & mask;
            case CAS: return ((old ^ b) & mask) == 0 ? c & mask : old;
            case EXCH: return b & mask;
            case ADD:
                if (t == PtxType.F32) {
                    float sum = FloatBits.flush(FloatBits.flush(FloatBits.f32(old)) + FloatBits.flush(FloatBits.f32(b)));
                    return FloatBits.bits(sum);
                }
                if (t == PtxType.F64) {
                    return FloatBits.bits(FloatBits.f64(old) + FloatBits.f64(b));
                }
                return (old + b) & mask;
            case INC: return Long.compareUnsigned(old & mask, b & mask) >= 0 ? 0 : (old + 1) & mask;
            case DEC: return (old & mask) == 0 || Long.compareUnsigned(old & mask, b & mask) > 0 ? b & mask
                    : (old - 1) & mask;
            case MIN: case MAX: {
                int cmp = t.isSigned() ? Long.compare((old << shift) >> shift, (b << shift) >> shift)
                        : Long.compareUnsigned(old & mask, b & mask);
                boolean keepOld = in.sub == MIN ? cmp <= 0 : cmp >= 0;
                return keepOld ? old & mask : b & mask;
            }
            default: throw new IllegalStateException("atomic " + in.sub);
        }
    }
}

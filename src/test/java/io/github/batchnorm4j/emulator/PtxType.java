package io.github.batchnorm4j.emulator;

/**
 * A PTX fundamental type as it appears in instruction suffixes and declarations ({@code .u32},
 * {@code .f64}, {@code .pred} ...). Registers hold every type in a {@code long}: integers and bit
 * types zero-extended to 64 bits, {@code .f32} as its raw 32 bits, {@code .f64} as its raw 64
 * bits, predicates as 0 or 1.
 */
enum PtxType {
    PRED(1, Kind.PREDICATE),
    B8(8, Kind.BITS), B16(16, Kind.BITS), B32(32, Kind.BITS), B64(64, Kind.BITS),
    U8(8, Kind.UNSIGNED), U16(16, Kind.UNSIGNED), U32(32, Kind.UNSIGNED), U64(64, Kind.UNSIGNED),
    S8(8, Kind.SIGNED), S16(16, Kind.SIGNED), S32(32, Kind.SIGNED), S64(64, Kind.SIGNED),
    F32(32, Kind.FLOAT), F64(64, Kind.FLOAT);

    enum Kind { PREDICATE, BITS, UNSIGNED, SIGNED, FLOAT }

    final int bits;
    final Kind kind;

    PtxType(int bits, Kind kind) {
        this.bits = bits;
        this.kind = kind;
    }

    /** The type named by a suffix without its dot ("u32"), or null when it is not one of these. */
    static PtxType parse(String name) {
        switch (name) {
            case "pred": return PRED;
            case "b8": return B8;
            case "b16": return B16;
            case "b32": return B32;
            case "b64": return B64;
            case "u8": return U8;
            case "u16": return U16;
            case "u32": return U32;
            case "u64": return U64;
            case "s8": return S8;
            case "s16": return S16;
            case "s32": return S32;
            case "s64": return S64;
            case "f32": return F32;
            case "f64": return F64;
            default: return null;
        }
    }

    /** Bytes in memory; a predicate is never stored, so 0. */
    int bytes() {
        return this == PRED ? 0 : bits / 8;
    }

    /** The low {@code bits} set: what a register of this type keeps of a result. */
    long mask() {
        return bits == 64 ? -1L : (1L << bits) - 1;
    }

    /** The shift pair {@code (v << s) >> s} that sign-extends a value of this width. */
    int extensionShift() {
        return 64 - bits;
    }

    boolean isSigned() {
        return kind == Kind.SIGNED;
    }

    boolean isFloat() {
        return kind == Kind.FLOAT;
    }

    boolean isInteger() {
        return kind == Kind.SIGNED || kind == Kind.UNSIGNED || kind == Kind.BITS;
    }

    /** The name as PTX writes it, without the dot. */
    String ptxName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

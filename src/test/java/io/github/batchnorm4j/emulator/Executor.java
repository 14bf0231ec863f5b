package io.github.batchnorm4j.emulator;

/**
 * Runs one thread's decoded instructions until it waits (bar.sync, a warp collective), exits or
 * has used its fuel. The frequent operations are written out in the switch; the rest call small
 * static helpers. Nothing here allocates or touches strings unless a fault is being raised.
 */
final class Executor {
    static final int STOP_FUEL = 0;
    static final int STOP_BARRIER = 1;
    static final int STOP_COLLECTIVE = 2;
    static final int STOP_EXIT = 3;

    private final PtxKernel kernel;
    private final Instruction[] code;
    private final long[] counts;
    private final MemoryAccess memory;
    /** Instructions the last {@link #run} executed. */
    int executed;

    Executor(PtxKernel kernel, long[] counts, MemoryAccess memory) {
        this.kernel = kernel;
        this.code = kernel.code;
        this.counts = counts;
        this.memory = memory;
    }

    private static float f(long bits) {
        return Float.intBitsToFloat((int) bits);
    }

    private static double g(long bits) {
        return Double.longBitsToDouble(bits);
    }

    private static long bits(float value) {
        return value != value ? FloatBits.CANONICAL_NAN_32 : Float.floatToRawIntBits(value) & 0xFFFFFFFFL;
    }

    private static long bits(double value) {
        return Double.doubleToRawLongBits(value);
    }

    int run(BlockExecution block, ThreadContext t, int fuel) {
        final Instruction[] code = this.code;
        final long[] counts = this.counts;
        final long[] r = t.regs;
        final MemoryAccess mem = memory;
        int pc = t.pc;
        int left = fuel;
        int reason = STOP_FUEL;
        try {
            run:
            while (left > 0) {
                final Instruction in = code[pc];
                counts[pc]++;
                left--;
                if (in.guard >= 0 && (r[in.guard] == 0) != in.guardNegated) {
                    pc++;
                    continue;
                }
                switch (in.op) {
                    case Opcode.MOV: r[in.d] = r[in.a] & in.mask; break;
                    case Opcode.PACK: r[in.d] = pack(in, r); break;
                    case Opcode.UNPACK: unpack(in, r); break;
                    case Opcode.SELP: r[in.d] = (r[in.c] != 0 ? r[in.a] : r[in.b]) & in.mask; break;

                    case Opcode.ADD: r[in.d] = (r[in.a] + r[in.b]) & in.mask; break;
                    case Opcode.SUB: r[in.d] = (r[in.a] - r[in.b]) & in.mask; break;
                    case Opcode.MUL_LO: r[in.d] = (r[in.a] * r[in.b]) & in.mask; break;
                    case Opcode.MUL_HI_S: r[in.d] = IntegerOps.mulHigh(r[in.a], r[in.b], in, true) & in.mask; break;
                    case Opcode.MUL_HI_U: r[in.d] = IntegerOps.mulHigh(r[in.a], r[in.b], in, false) & in.mask; break;
                    case Opcode.MUL_WIDE_S: {
                        long p = ((r[in.a] << in.shift) >> in.shift) * ((r[in.b] << in.shift) >> in.shift);
                        r[in.d] = in.width == 16 ? p & 0xFFFFFFFFL : p;
                        break;
                    }
                    case Opcode.MUL_WIDE_U: {
                        long p = ((r[in.a] << in.shift) >>> in.shift) * ((r[in.b] << in.shift) >>> in.shift);
                        r[in.d] = in.width == 16 ? p & 0xFFFFFFFFL : p;
                        break;
                    }
                    case Opcode.MAD_LO: r[in.d] = (r[in.a] * r[in.b] + r[in.c]) & in.mask; break;
                    case Opcode.MAD_HI_S:
                        r[in.d] = (IntegerOps.mulHigh(r[in.a], r[in.b], in, true) + r[in.c]) & in.mask;
                        break;
                    case Opcode.MAD_HI_U:
                        r[in.d] = (IntegerOps.mulHigh(r[in.a], r[in.b], in, false) + r[in.c]) & in.mask;
                        break;
                    case Opcode.MAD_WIDE_S: {
                        long p = ((r[in.a] << in.shift) >> in.shift) * ((r[in.b] << in.shift) >> in.shift) + r[in.c];
                        r[in.d] = in.width == 16 ? p & 0xFFFFFFFFL : p;
                        break;
                    }
                    case Opcode.MAD_WIDE_U: {
                        long p = ((r[in.a] << in.shift) >>> in.shift) * ((r[in.b] << in.shift) >>> in.shift) + r[in.c];
                        r[in.d] = in.width == 16 ? p & 0xFFFFFFFFL : p;
                        break;
                    }
                    case Opcode.DIV_S: r[in.d] = IntegerOps.divSigned(r[in.a], r[in.b], in.shift, in.mask); break;
                    case Opcode.DIV_U: r[in.d] = IntegerOps.divUnsigned(r[in.a], r[in.b], in.shift, in.mask); break;
                    case Opcode.REM_S: r[in.d] = IntegerOps.remSigned(r[in.a], r[in.b], in.shift, in.mask); break;
                    case Opcode.REM_U: r[in.d] = IntegerOps.remUnsigned(r[in.a], r[in.b], in.shift, in.mask); break;
                    case Opcode.MIN_S:
                        r[in.d] = Math.min((r[in.a] << in.shift) >> in.shift, (r[in.b] << in.shift) >> in.shift) & in.mask;
                        break;
                    case Opcode.MAX_S:
                        r[in.d] = Math.max((r[in.a] << in.shift) >> in.shift, (r[in.b] << in.shift) >> in.shift) & in.mask;
                        break;
                    case Opcode.MIN_U: {
                        long x = r[in.a] & in.mask;
                        long y = r[in.b] & in.mask;
                        r[in.d] = Long.compareUnsigned(x, y) <= 0 ? x : y;
                        break;
                    }
                    case Opcode.MAX_U: {
                        long x = r[in.a] & in.mask;
                        long y = r[in.b] & in.mask;
                        r[in.d] = Long.compareUnsigned(x, y) >= 0 ? x : y;
                        break;
                    }
                    case Opcode.ABS: r[in.d] = Math.abs((r[in.a] << in.shift) >> in.shift) & in.mask; break;
                    case Opcode.NEG: r[in.d] = -r[in.a] & in.mask; break;
                    case Opcode.NOT: r[in.d] = ~r[in.a] & in.mask; break;
                    case Opcode.AND: r[in.d] = r[in.a] & r[in.b] & in.mask; break;
                    case Opcode.OR: r[in.d] = (r[in.a] | r[in.b]) & in.mask; break;
                    case Opcode.XOR: r[in.d] = (r[in.a] ^ r[in.b]) & in.mask; break;
                    case Opcode.CNOT: r[in.d] = (r[in.a] & in.mask) == 0 ? 1 : 0; break;
                    case Opcode.SHL: {
                        long s = r[in.b] & 0xFFFFFFFFL;
                        r[in.d] = s >= in.width ? 0 : (r[in.a] << s) & in.mask;
                        break;
                    }
                    case Opcode.SHR_U: {
                        long s = r[in.b] & 0xFFFFFFFFL;
                        r[in.d] = s >= in.width ? 0 : (r[in.a] & in.mask) >>> s;
                        break;
                    }
                    case Opcode.SHR_S: {
                        long s = Math.min(r[in.b] & 0xFFFFFFFFL, 63);
                        r[in.d] = (((r[in.a] << in.shift) >> in.shift) >> s) & in.mask;
                        break;
                    }
                    case Opcode.INT_OTHER: r[in.d] = IntegerOps.other(in, r); break;

                    case Opcode.SETP_INT:
                        Comparisons.write(in, r, Comparisons.integer(in.sub & 0xFF, r[in.a], r[in.b], in.shift,
                                in.type.isSigned()));
                        break;
                    case Opcode.SETP_F32: {
                        float x = f(r[in.a]);
                        float y = f(r[in.b]);
                        if (in.has(Instruction.FTZ)) {
                            x = FloatBits.flush(x);
                            y = FloatBits.flush(y);
                        }
                        Comparisons.write(in, r, Comparisons.floating(in.sub & 0xFF, x, y));
                        break;
                    }
                    case Opcode.SETP_F64:
                        Comparisons.write(in, r, Comparisons.floating(in.sub & 0xFF, g(r[in.a]), g(r[in.b])));
                        break;

                    case Opcode.ADD_F32: r[in.d] = bits(f(r[in.a]) + f(r[in.b])); break;
                    case Opcode.SUB_F32: r[in.d] = bits(f(r[in.a]) - f(r[in.b])); break;
                    case Opcode.MUL_F32: r[in.d] = bits(f(r[in.a]) * f(r[in.b])); break;
                    case Opcode.FMA_F32: r[in.d] = bits(Math.fma(f(r[in.a]), f(r[in.b]), f(r[in.c]))); break;
                    case Opcode.DIV_F32: r[in.d] = bits(f(r[in.a]) / f(r[in.b])); break;
                    case Opcode.ABS_F32: r[in.d] = r[in.a] & 0x7FFFFFFFL; break;
                    case Opcode.NEG_F32: r[in.d] = (r[in.a] ^ 0x80000000L) & 0xFFFFFFFFL; break;
                    case Opcode.MIN_F32: r[in.d] = bits(FloatBits.min(f(r[in.a]), f(r[in.b]))); break;
                    case Opcode.MAX_F32: r[in.d] = bits(FloatBits.max(f(r[in.a]), f(r[in.b]))); break;
                    case Opcode.F32_GENERAL: r[in.d] = FloatOps.f32(in, r); break;

                    case Opcode.ADD_F64: r[in.d] = bits(g(r[in.a]) + g(r[in.b])); break;
                    case Opcode.SUB_F64: r[in.d] = bits(g(r[in.a]) - g(r[in.b])); break;
                    case Opcode.MUL_F64: r[in.d] = bits(g(r[in.a]) * g(r[in.b])); break;
                    case Opcode.FMA_F64: r[in.d] = bits(Math.fma(g(r[in.a]), g(r[in.b]), g(r[in.c]))); break;
                    case Opcode.DIV_F64: r[in.d] = bits(g(r[in.a]) / g(r[in.b])); break;
                    case Opcode.ABS_F64: r[in.d] = r[in.a] & Long.MAX_VALUE; break;
                    case Opcode.NEG_F64: r[in.d] = r[in.a] ^ Long.MIN_VALUE; break;
                    case Opcode.MIN_F64: r[in.d] = bits(FloatBits.min(g(r[in.a]), g(r[in.b]))); break;
                    case Opcode.MAX_F64: r[in.d] = bits(FloatBits.max(g(r[in.a]), g(r[in.b]))); break;
                    case Opcode.SQRT_F64: r[in.d] = bits(Math.sqrt(g(r[in.a]))); break;
                    case Opcode.RCP_F64: r[in.d] = bits(1.0 / g(r[in.a])); break;
                    case Opcode.F64_GENERAL: r[in.d] = FloatOps.f64(in, r); break;

                    case Opcode.CVT_INT: r[in.d] = Conversions.integer(in, r[in.a]); break;
                    case Opcode.CVT_F64_F32: r[in.d] = bits((double) f(r[in.a])); break;
                    case Opcode.CVT_F32_F64: r[in.d] = bits((float) g(r[in.a])); break;
                    case Opcode.CVT_GENERAL: r[in.d] = Conversions.convert(in, r[in.a]); break;

                    case Opcode.LD_PARAM: r[in.d] = mem.loadParameter(in, r); break;
                    case Opcode.LD_GLOBAL: r[in.d] = mem.loadGlobal(in, r[in.a] + in.displacement, t, block); break;
                    case Opcode.ST_GLOBAL: mem.storeGlobal(in, r[in.a] + in.displacement, r[in.b], t, block); break;
                    case Opcode.LD_SHARED: r[in.d] = mem.loadShared(in, r[in.a] + in.displacement, t, block); break;
                    case Opcode.ST_SHARED: mem.storeShared(in, r[in.a] + in.displacement, r[in.b], t, block); break;
                    case Opcode.LD_GENERIC: r[in.d] = mem.loadGeneric(in, r[in.a] + in.displacement, t, block); break;
                    case Opcode.ST_GENERIC: mem.storeGeneric(in, r[in.a] + in.displacement, r[in.b], t, block); break;
                    case Opcode.LD_LOCAL: r[in.d] = mem.loadLocal(in, r[in.a] + in.displacement, t); break;
                    case Opcode.ST_LOCAL: mem.storeLocal(in, r[in.a] + in.displacement, r[in.b], t); break;
                    case Opcode.LD_VECTOR: mem.loadVector(in, r, t, block); break;
                    case Opcode.ST_VECTOR: mem.storeVector(in, r, t, block); break;
                    case Opcode.ATOM: r[in.d] = mem.atomic(in, r, t, block); break;
                    case Opcode.FENCE: mem.fence(t, block); break;
                    case Opcode.NOP: break;

                    case Opcode.BRA: pc = in.target; continue run;
                    case Opcode.BAR_SYNC: reason = STOP_BARRIER; break run;
                    case Opcode.SHFL: case Opcode.VOTE: reason = STOP_COLLECTIVE; break run;
                    case Opcode.EXIT: reason = STOP_EXIT; break run;
                    case Opcode.TRAP: throw new DeviceFault("interpreter", "trap executed");
                    default: throw new IllegalStateException("opcode " + in.op);
                }
                pc++;
            }
        } catch (DeviceFault fault) {
            t.pc = pc;
            throw Faults.wrap(fault, kernel, code[pc], block, t);
        } catch (RuntimeException e) {
            t.pc = pc;
            throw Faults.internal(e, kernel, code[pc], block, t);
        }
        t.pc = pc;
        executed = fuel - left;
        return reason;
    }

    private static long pack(Instruction in, long[] r) {
        int[] v = in.vector;
        int elementBits = in.size;
        long elementMask = elementBits == 64 ? -1L : (1L << elementBits) - 1;
        long value = 0;
        for (int i = 0; i < v.length; i++) {
            value |= (r[v[i]] & elementMask) << (i * elementBits);
        }
        return value & in.mask;
    }

    private static void unpack(Instruction in, long[] r) {
        int[] v = in.vector;
        int elementBits = in.size;
        long elementMask = elementBits == 64 ? -1L : (1L << elementBits) - 1;
        long value = r[in.a];
        for (int i = 0; i < v.length; i++) {
            r[v[i]] = (value >>> (i * elementBits)) & elementMask;
        }
    }
}

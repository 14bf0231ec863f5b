package io.github.batchnorm4j.emulator;

/**
 * shfl.sync and vote.sync: a lane waits at the instruction until every lane its membermask names
 * waits there too; then all of them get their results at once. A mask that does not name the
 * executing lane, names a lane that has exited or does not exist, or disagrees with another
 * lane's mask, and a shuffle that reads a lane outside the mask (an undefined value), are
 * synccheck faults.
 */
final class WarpCollectives {
    private WarpCollectives() {
    }

    static void arrive(BlockExecution b, ThreadContext t) {
        Instruction in = b.instructionAt(t);
        int mask = (int) t.regs[in.e];
        if ((mask >>> t.lane & 1) == 0) {
            throw fault(b, t, String.format("executed by lane %d, which its membermask 0x%08x does not name",
                    t.lane, mask));
        }
        int base = t.warp * 32;
        ThreadContext[] threads = b.threads;
        int missing = mask & ~b.warpLanes[t.warp];
        if (missing != 0) {
            throw fault(b, t, String.format("membermask 0x%08x names lane %d, which this block of %d threads "
                    + "does not have", mask, Integer.numberOfTrailingZeros(missing), threads.length));
        }
        int exited = mask & b.warpExited[t.warp];
        if (exited != 0) {
            int lane = Integer.numberOfTrailingZeros(exited);
            throw fault(b, t, String.format("membermask 0x%08x names lane %d (thread %s), which has exited",
                    mask, lane, threads[base + lane].coordinates()));
        }
        b.suspend(t, ThreadContext.AT_COLLECTIVE);
        t.collectiveMask = mask;
        b.warpCollective[t.warp]++;
        if (b.warpCollective[t.warp] < Integer.bitCount(mask)) {
            return;
        }
        for (int bits = mask; bits != 0; bits &= bits - 1) {
            ThreadContext other = threads[base + Integer.numberOfTrailingZeros(bits)];
            if (other.state != ThreadContext.AT_COLLECTIVE || other.pc != t.pc) {
                return;
            }
            if (other.collectiveMask != mask) {
                throw fault(b, t, String.format("lanes disagree on the membermask: lane %d passes 0x%08x, lane %d "
                        + "0x%08x", t.lane, mask, other.lane, other.collectiveMask));
            }
        }
        if (in.op == Opcode.SHFL) {
            shuffle(b, in, base, mask);
        } else {
            vote(b, in, base, mask);
        }
        for (int bits = mask; bits != 0; bits &= bits - 1) {
            ThreadContext other = threads[base + Integer.numberOfTrailingZeros(bits)];
            b.warpCollective[t.warp]--;
            b.resume(other);
        }
    }

    private static void shuffle(BlockExecution b, Instruction in, int base, int mask) {
        ThreadContext[] threads = b.threads;
        long[] values = b.shuffleValues;
        int inRange = 0;
        for (int bits = mask; bits != 0; bits &= bits - 1) {
            int lane = Integer.numberOfTrailingZeros(bits);
            long[] r = threads[base + lane].regs;
            int bval = (int) r[in.b] & 31;
            int c = (int) r[in.c];
            int clamp = c & 31;
            int segment = (c >>> 8) & 31;
            int maxLane = (lane & segment) | (clamp & ~segment);
            int minLane = lane & segment;
            int j;
            boolean valid;
            switch (in.sub) {
                case ControlDecoder.SHFL_UP: j = lane - bval; valid = j >= maxLane; break;
                case ControlDecoder.SHFL_DOWN: j = lane + bval; valid = j <= maxLane; break;
                case ControlDecoder.SHFL_BFLY: j = lane ^ bval; valid = j <= maxLane; break;
                default: j = minLane | (bval & ~segment); valid = j <= maxLane; break;
            }
            if (!valid) {
                j = lane;
            }
            if ((mask >>> j & 1) == 0) {
                throw fault(b, threads[base + lane], String.format("lane %d reads lane %d, which the membermask "
                        + "0x%08x does not name: the value is undefined", lane, j, mask));
            }
            values[lane] = threads[base + j].regs[in.a] & 0xFFFFFFFFL;
            if (valid) {
                inRange |= 1 << lane;
            }
        }
        for (int bits = mask; bits != 0; bits &= bits - 1) {
            int lane = Integer.numberOfTrailingZeros(bits);
            long[] r = threads[base + lane].regs;
            r[in.d] = values[lane];
            if (in.d2 >= 0) {
                r[in.d2] = (inRange >>> lane) & 1;
            }
        }
    }

    private static void vote(BlockExecution b, Instruction in, int base, int mask) {
        ThreadContext[] threads = b.threads;
        boolean negate = in.has(Instruction.NEGATE_C);
        int ballot = 0;
        for (int bits = mask; bits != 0; bits &= bits - 1) {
            int lane = Integer.numberOfTrailingZeros(bits);
            if ((threads[base + lane].regs[in.a] != 0) != negate) {
                ballot |= 1 << lane;
            }
        }
        long result;
        switch (in.sub) {
            case ControlDecoder.VOTE_ALL: result = ballot == mask ? 1 : 0; break;
            case ControlDecoder.VOTE_ANY: result = ballot != 0 ? 1 : 0; break;
            case ControlDecoder.VOTE_UNI: result = ballot == mask || ballot == 0 ? 1 : 0; break;
            default: result = ballot & 0xFFFFFFFFL; break;
        }
        for (int bits = mask; bits != 0; bits &= bits - 1) {
            threads[base + Integer.numberOfTrailingZeros(bits)].regs[in.d] = result;
        }
    }

    /** A lane exits: any lane of its warp waiting at a collective that names it can never finish. */
    static void checkExit(BlockExecution b, ThreadContext exiting) {
        int base = exiting.warp * 32;
        for (int lane = 0; lane < 32 && base + lane < b.threads.length; lane++) {
            ThreadContext other = b.threads[base + lane];
            if (other.state == ThreadContext.AT_COLLECTIVE && (other.collectiveMask >>> exiting.lane & 1) != 0) {
                throw fault(b, other, String.format("membermask 0x%08x names lane %d (thread %s), which exited "
                        + "without reaching this instruction", other.collectiveMask, exiting.lane,
                        exiting.coordinates()));
            }
        }
    }

    /** Why lane {@code t}'s collective cannot complete. */
    static DeviceFault deadlock(BlockExecution b, ThreadContext t) {
        int base = t.warp * 32;
        for (int bits = t.collectiveMask; bits != 0; bits &= bits - 1) {
            int lane = Integer.numberOfTrailingZeros(bits);
            ThreadContext other = b.threads[base + lane];
            if (other.state == ThreadContext.AT_COLLECTIVE && other.pc == t.pc) {
                continue;
            }
            String where = other.state == ThreadContext.EXITED ? "has exited"
                    : "waits at " + b.instructionAt(other).where();
            return fault(b, t, String.format("deadlock: membermask 0x%08x names lane %d (thread %s), which %s",
                    t.collectiveMask, lane, other.coordinates(), where));
        }
        return fault(b, t, "deadlock at a warp collective");
    }

    private static DeviceFault fault(BlockExecution b, ThreadContext t, String detail) {
        return Faults.at("synccheck", b.launch.kernel, b.instructionAt(t), b, t, detail);
    }
}

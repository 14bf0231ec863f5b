package io.github.batchnorm4j.emulator;

import java.util.ArrayList;
import java.util.List;

/**
 * The dot-separated parts of an opcode after its name ({@code ld.global.nc.v4.f32} has global, nc,
 * v4, f32). A decoder takes the ones it understands; {@link #finish} rejects any left over, so a
 * modifier the interpreter does not implement is never silently ignored.
 */
final class Modifiers {
    private final List<String> parts;
    private final boolean[] taken;
    private final String opcode;

    Modifiers(String opcode) {
        this.opcode = opcode;
        List<String> list = new ArrayList<>(List.of(opcode.split("\\.")));
        list.remove(0);
        parts = list;
        taken = new boolean[list.size()];
    }

    String opcode() {
        return opcode;
    }

    /** Takes {@code name} if present. */
    boolean take(String name) {
        for (int i = 0; i < parts.size(); i++) {
            if (!taken[i] && parts.get(i).equals(name)) {
                taken[i] = true;
                return true;
            }
        }
        return false;
    }

    /** Takes the first of {@code names} present, or returns null. */
    String takeAny(String... names) {
        for (int i = 0; i < parts.size(); i++) {
            if (taken[i]) {
                continue;
            }
            for (String name : names) {
                if (parts.get(i).equals(name)) {
                    taken[i] = true;
                    return name;
                }
            }
        }
        return null;
    }

    /** Takes every modifier starting with {@code prefix} (cache hints such as L2::128B). */
    void takePrefixed(String prefix) {
        for (int i = 0; i < parts.size(); i++) {
            if (!taken[i] && parts.get(i).startsWith(prefix)) {
                taken[i] = true;
            }
        }
    }

    /** Takes the next untaken type modifier, or returns null. */
    PtxType takeType() {
        for (int i = 0; i < parts.size(); i++) {
            if (!taken[i]) {
                PtxType t = PtxType.parse(parts.get(i));
                if (t != null) {
                    taken[i] = true;
                    return t;
                }
            }
        }
        return null;
    }

    /** Takes the type, which must be present. */
    PtxType requireType() {
        PtxType t = takeType();
        if (t == null) {
            throw new DecodeException("no supported type in " + opcode);
        }
        return t;
    }

    /** Takes a rounding modifier, or returns NONE. */
    Rounding takeRounding() {
        for (int i = 0; i < parts.size(); i++) {
            if (!taken[i]) {
                Rounding r = Rounding.parse(parts.get(i));
                if (r != null) {
                    taken[i] = true;
                    return r;
                }
            }
        }
        return Rounding.NONE;
    }

    /** Fails on any modifier no decoder took. */
    void finish() {
        for (int i = 0; i < parts.size(); i++) {
            if (!taken[i]) {
                throw new DecodeException("unsupported modifier ." + parts.get(i) + " in " + opcode);
            }
        }
    }
}

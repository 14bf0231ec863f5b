package io.github.batchnorm4j.emulator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The register-file layout of one kernel, built while its body is decoded: a slot for every
 * declared register (scoped, so inline-asm blocks may reuse names), for every distinct immediate,
 * for every special register read and for a sink ({@code _}). A thread's registers are a
 * {@code long[]} copied from {@link #template()}, which holds the immediates.
 */
final class RegisterFile {
    /** A declared register: its slot and declared type. */
    record Register(int slot, PtxType type) {
    }

    /** A parameterized declaration {@code %r<N>}: registers prefix0 .. prefix(N-1). */
    private record Range(int base, int count, PtxType type) {
    }

    private static final class Scope {
        final Map<String, Register> names = new HashMap<>();
        final Map<String, Range> ranges = new HashMap<>();
    }

    private final Deque<Scope> scopes = new ArrayDeque<>();
    private final Map<Long, Integer> constants = new HashMap<>();
    private final Map<SpecialRegister, Integer> specials = new HashMap<>();
    private final List<long[]> constantValues = new ArrayList<>();
    private int slots;
    private int sink = -1;

    RegisterFile() {
        scopes.push(new Scope());
    }

    void openScope() {
        scopes.push(new Scope());
    }

    void closeScope() {
        if (scopes.size() == 1) {
            throw new IllegalStateException("unbalanced scope");
        }
        scopes.pop();
    }

    /** Declares {@code name}, or the range {@code prefix<count>}; false if already declared here. */
    boolean declare(String name, PtxType type) {
        Scope scope = scopes.peek();
        int open = name.indexOf('<');
        if (open > 0 && name.endsWith(">")) {
            String prefix = name.substring(0, open);
            int count = Integer.parseInt(name.substring(open + 1, name.length() - 1).trim());
            if (scope.ranges.containsKey(prefix)) {
                return false;
            }
            scope.ranges.put(prefix, new Range(slots, count, type));
            slots += count;
            return true;
        }
        if (scope.names.containsKey(name)) {
            return false;
        }
        scope.names.put(name, new Register(slots++, type));
        return true;
    }

    /** The register a name refers to in the innermost scope declaring it, or null. */
    Register find(String name) {
        for (Scope scope : scopes) {
            Register r = scope.names.get(name);
            if (r != null) {
                return r;
            }
            int digits = name.length();
            while (digits > 0 && Character.isDigit(name.charAt(digits - 1))) {
                digits--;
            }
            if (digits < name.length() && digits > 0) {
                Range range = scope.ranges.get(name.substring(0, digits));
                if (range != null) {
                    String number = name.substring(digits);
                    if (number.length() > 9) {
                        continue;
                    }
                    int index = Integer.parseInt(number);
                    if (index < range.count && (number.length() == 1 || number.charAt(0) != '0')) {
                        return new Register(range.base + index, range.type);
                    }
                }
            }
        }
        return null;
    }

    /** A slot that holds {@code value} in every thread. */
    int constant(long value) {
        Integer slot = constants.get(value);
        if (slot == null) {
            slot = slots++;
            constants.put(value, slot);
            constantValues.add(new long[] {slot, value});
        }
        return slot;
    }

    int special(SpecialRegister register) {
        return specials.computeIfAbsent(register, r -> slots++);
    }

    /** The slot written by the sink operand {@code _}; never read. */
    int sink() {
        if (sink < 0) {
            sink = slots++;
        }
        return sink;
    }

    int size() {
        return slots;
    }

    Map<SpecialRegister, Integer> specials() {
        return specials;
    }

    /** Initial register contents: zero, except the constants. */
    long[] template() {
        long[] template = new long[slots];
        for (long[] entry : constantValues) {
            template[(int) entry[0]] = entry[1];
        }
        return template;
    }
}

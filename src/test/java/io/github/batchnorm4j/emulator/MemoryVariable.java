package io.github.batchnorm4j.emulator;

import java.util.List;

/**
 * A {@code .shared} or {@code .local} declaration: {@code .shared .align A .TYPE name[N]} at module
 * or function scope, {@code .extern .shared .align A .b8 name[]} for the launch's dynamic shared
 * memory, or {@code .local .align A .b8 __local_depot0[N]} for a thread's local memory.
 *
 * @param size bytes; 0 for the extern (dynamic) form
 */
record MemoryVariable(String name, int align, int size, boolean dynamic, int line) {

    /** Parses the text after {@code .shared} or {@code .local} (after {@code .extern .shared}, if {@code dynamic}). */
    static List<MemoryVariable> parse(String declaration, boolean dynamic, int line) {
        String rest = declaration.trim();
        int align = 0;
        PtxType type = null;
        while (rest.startsWith(".")) {
            int space = rest.indexOf(' ');
            String word = space < 0 ? rest : rest.substring(0, space);
            rest = space < 0 ? "" : rest.substring(space + 1).trim();
            if (word.equals(".align")) {
                int next = rest.indexOf(' ');
                align = Integer.parseInt(rest.substring(0, next).trim());
                rest = rest.substring(next + 1).trim();
            } else if (word.startsWith(".v")) {
                throw new DeviceFault("interpreter", "vector variables are not supported: '"
                        + declaration + "' (line " + line + ")");
            } else {
                type = PtxType.parse(word.substring(1));
                if (type == null || type == PtxType.PRED) {
                    throw new DeviceFault("interpreter", "unknown type " + word + " in '" + declaration
                            + "' (line " + line + ")");
                }
            }
        }
        if (type == null || rest.isEmpty() || rest.contains("=")) {
            throw new DeviceFault("interpreter", "unsupported declaration '" + declaration
                    + "' (line " + line + ")");
        }
        if (align == 0) {
            align = type.bytes();
        }
        List<MemoryVariable> variables = new java.util.ArrayList<>();
        for (String item : rest.split(",")) {
            String name = item.trim();
            long count = 1;
            int bracket = name.indexOf('[');
            if (bracket >= 0) {
                String inside = name.substring(bracket + 1, name.indexOf(']')).trim();
                name = name.substring(0, bracket).trim();
                if (inside.isEmpty()) {
                    if (!dynamic) {
                        throw new DeviceFault("interpreter", "array without a size: '"
                                + declaration + "' (line " + line + ")");
                    }
                    count = 0;
                } else {
                    count = Long.parseLong(inside);
                }
                if (name.contains("[")) {
                    throw new DeviceFault("interpreter", "multi-dimensional arrays are not "
                            + "supported: '" + declaration + "' (line " + line + ")");
                }
            }
            long size = count * type.bytes();
            if (size > (1 << 20)) {
                throw new DeviceFault("interpreter", "variable too large: '" + declaration
                        + "' (line " + line + ")");
            }
            variables.add(new MemoryVariable(name, align, dynamic ? 0 : (int) size, dynamic, line));
        }
        return variables;
    }
}

package io.github.batchnorm4j.emulator;

/**
 * One kernel parameter as the {@code .param} list declares it, and where it lies in the launch's
 * parameter buffer (each at its natural alignment, or its {@code .align}, in order, as the CUDA
 * driver lays out kernel arguments).
 *
 * @param type   the PTX type without its dot: "u64", "u32", "f64", "b8" (for a byte array)
 * @param size   bytes (element size times the array length, if any)
 * @param align  bytes
 * @param offset bytes from the start of the parameter buffer
 */
public record PtxParameter(String name, String type, int size, int align, int offset) {

    /** Parses {@code .param [.align A] .TYPE [.ptr [.space] [.align A]] name[[N]]} at {@code offset} (unaligned). */
    static PtxParameter parse(String declaration, int end, int line) {
        String[] words = declaration.trim().split("\\s+");
        if (words.length < 3 || !words[0].equals(".param")) {
            throw bad(declaration, line);
        }
        PtxType type = null;
        int align = 0;
        String name = null;
        for (int i = 1; i < words.length; i++) {
            String w = words[i];
            if (w.equals(".align")) {
                if (i + 1 >= words.length) {
                    throw bad(declaration, line);
                }
                int a = Integer.parseInt(words[++i]);
                // After .ptr, .align is the pointee's alignment, not the parameter's.
                if (type == null) {
                    align = a;
                }
            } else if (w.equals(".ptr") || w.equals(".global") || w.equals(".shared")
                    || w.equals(".const") || w.equals(".local")) {
                continue;
            } else if (w.startsWith(".")) {
                type = PtxType.parse(w.substring(1));
                if (type == null || type == PtxType.PRED) {
                    throw bad(declaration, line);
                }
            } else {
                name = w;
            }
        }
        if (type == null || name == null) {
            throw bad(declaration, line);
        }
        long count = 1;
        int bracket = name.indexOf('[');
        if (bracket >= 0) {
            count = Long.parseLong(name.substring(bracket + 1, name.indexOf(']')).trim());
            name = name.substring(0, bracket);
        }
        if (align == 0) {
            align = type.bytes();
        }
        int offset = VariableLayout.align(end, align);
        return new PtxParameter(name, type.ptxName(), (int) (count * type.bytes()), align, offset);
    }

    private static DeviceFault bad(String declaration, int line) {
        return new DeviceFault("interpreter", "unsupported parameter declaration '" + declaration.trim()
                + "' (line " + line + ")");
    }
}

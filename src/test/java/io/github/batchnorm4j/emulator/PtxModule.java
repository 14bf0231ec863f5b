package io.github.batchnorm4j.emulator;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed PTX module: its {@code .entry} kernels, each decoded at load so that running one does
 * no parsing. {@code .func} bodies are skipped (calls are not supported, so nothing can run them);
 * debug sections are skipped; anything else unsupported is a DeviceFault ("interpreter").
 */
public final class PtxModule {
    private final Map<String, PtxKernel> kernels;

    private PtxModule(Map<String, PtxKernel> kernels) {
        this.kernels = kernels;
    }

    /** Parses and decodes PTX text; throws DeviceFault("interpreter") naming the line and text. */
    public static PtxModule parse(String ptxText) {
        List<Statement> statements = StatementSplitter.split(ptxText);
        List<MemoryVariable> shared = new ArrayList<>();
        Map<String, PtxKernel> kernels = new LinkedHashMap<>();
        int i = 0;
        while (i < statements.size()) {
            Statement s = statements.get(i);
            String text = s.text();
            if (s.isHeader()) {
                int end = matchingClose(statements, i + 1);
                List<Statement> body = statements.subList(i + 2, end);
                if (isEntry(text)) {
                    PtxKernel kernel = new KernelParser(s, body, shared).parse();
                    if (kernels.put(kernel.name(), kernel) != null) {
                        throw new DeviceFault("interpreter", "duplicate kernel " + kernel.name());
                    }
                } else if (!isFunction(text) && !text.startsWith(".section")) {
                    throw new DeviceFault("interpreter", "unsupported block " + s.where());
                }
                i = end + 1;
                continue;
            }
            if (s.isOpen() || s.isClose() || s.isLabel()) {
                throw new DeviceFault("interpreter", "unexpected " + (s.isLabel() ? "label " + text : "brace")
                        + " at module scope (line " + s.line() + ")");
            }
            moduleDirective(s, shared);
            i++;
        }
        return new PtxModule(Collections.unmodifiableMap(kernels));
    }

    private static boolean isEntry(String header) {
        return (" " + header + " ").contains(" .entry ");
    }

    private static boolean isFunction(String header) {
        return (" " + header + " ").contains(" .func ");
    }

    private static int matchingClose(List<Statement> statements, int open) {
        if (open >= statements.size() || !statements.get(open).isOpen()) {
            throw new DeviceFault("interpreter", "expected '{' after " + statements.get(open - 1).where());
        }
        int depth = 0;
        for (int j = open; j < statements.size(); j++) {
            Statement s = statements.get(j);
            if (s.isOpen() || s.isHeader()) {
                depth += s.isOpen() ? 1 : 0;
            } else if (s.isClose()) {
                depth--;
                if (depth == 0) {
                    return j;
                }
            }
        }
        throw new DeviceFault("interpreter", "unclosed body of " + statements.get(open - 1).where());
    }

    private static void moduleDirective(Statement s, List<MemoryVariable> shared) {
        String text = s.text();
        String[] words = text.split("\\s+");
        switch (words[0]) {
            case ".version": case ".target": case ".file": case ".loc": case ".pragma":
                return;
            case ".address_size":
                if (!text.endsWith(" 64")) {
                    throw new DeviceFault("interpreter", "only .address_size 64 is supported: " + s.where());
                }
                return;
            case ".shared":
                shared.addAll(MemoryVariable.parse(text.substring(8), false, s.line()));
                return;
            default:
                break;
        }
        if (text.startsWith(".extern .shared ")) {
            shared.addAll(MemoryVariable.parse(text.substring(16), true, s.line()));
            return;
        }
        if (isFunction(text)) {
            return; // a .func prototype; calls are rejected where they appear
        }
        throw new DeviceFault("interpreter", "unsupported module directive " + s.where());
    }

    /** The kernels in the order the module defines them. */
    public List<PtxKernel> kernels() {
        return List.copyOf(kernels.values());
    }

    /** The kernel of that name, or null when the module has none. */
    public PtxKernel kernel(String name) {
        return kernels.get(name);
    }
}

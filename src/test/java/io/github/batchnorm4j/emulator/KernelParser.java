package io.github.batchnorm4j.emulator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link PtxKernel} from an entry's header and body: parameters, register and shared
 * declarations, labels, then every instruction decoded (two passes, so branches may go forward).
 * Any instruction, directive or modifier it does not support fails the whole module with a
 * DeviceFault ("interpreter") naming the text and line.
 */
final class KernelParser {
    private final Statement header;
    private final List<Statement> body;
    private final List<MemoryVariable> moduleShared;
    private String name;
    private final List<PtxParameter> parameters = new ArrayList<>();
    private int[] requiredBlock;
    private int[] maximumBlock;

    KernelParser(Statement header, List<Statement> body, List<MemoryVariable> moduleShared) {
        this.header = header;
        this.body = body;
        this.moduleShared = moduleShared;
    }

    PtxKernel parse() {
        parseHeader();
        Map<String, PtxParameter> byName = new HashMap<>();
        for (PtxParameter p : parameters) {
            byName.put(p.name(), p);
        }
        Map<String, Integer> labels = new HashMap<>();
        List<MemoryVariable> shared = new ArrayList<>();
        List<MemoryVariable> local = new ArrayList<>();
        for (MemoryVariable v : moduleShared) {
            if (isReferenced(v.name())) {
                shared.add(v);
            }
        }
        int count = 0;
        for (Statement s : body) {
            if (s.isLabel()) {
                if (labels.put(s.text(), count) != null) {
                    throw fault("duplicate label", s);
                }
            } else if (isInstruction(s)) {
                count++;
            } else if (s.text().startsWith(".shared ")) {
                shared.addAll(MemoryVariable.parse(s.text().substring(8), false, s.line()));
            } else if (s.text().startsWith(".extern .shared ")) {
                shared.addAll(MemoryVariable.parse(s.text().substring(16), true, s.line()));
            } else if (s.text().startsWith(".local ")) {
                local.addAll(MemoryVariable.parse(s.text().substring(7), false, s.line()));
            }
        }
        VariableLayout layout = new VariableLayout(shared);
        VariableLayout localLayout = new VariableLayout(local);
        RegisterFile registers = new RegisterFile();
        Operands operands = new Operands(registers, layout, localLayout, byName, labels);
        int[] memorySlots = {0};
        MemoryDecoder.SlotCounter slots = () -> memorySlots[0]++;
        Instruction[] code = new Instruction[count + 1];
        int index = 0;
        for (Statement s : body) {
            if (s.isOpen()) {
                registers.openScope();
            } else if (s.isClose()) {
                registers.closeScope();
            } else if (isInstruction(s)) {
                try {
                    code[index++] = InstructionDecoder.decode(s.text(), s.line(), operands, slots);
                } catch (DecodeException | NumberFormatException e) {
                    throw fault(e.getMessage(), s);
                }
            } else if (!s.isLabel()) {
                directive(s, registers);
            }
        }
        Instruction.Builder end = new Instruction.Builder("<end of " + name + ">", body.isEmpty()
                ? header.line() : body.get(body.size() - 1).line());
        end.op(Opcode.EXIT, null, InstructionClass.CONTROL);
        code[index] = end.build();
        return new PtxKernel(name, parameters, layout, localLayout.staticBytes(), code, registers, memorySlots[0],
                requiredBlock, maximumBlock);
    }

    private boolean isReferenced(String symbol) {
        for (Statement s : body) {
            String text = s.text();
            int at = text.indexOf(symbol);
            while (at >= 0) {
                int after = at + symbol.length();
                boolean startOk = at == 0 || !isIdentifierChar(text.charAt(at - 1));
                boolean endOk = after >= text.length() || !isIdentifierChar(text.charAt(after));
                if (startOk && endOk) {
                    return true;
                }
                at = text.indexOf(symbol, at + 1);
            }
        }
        return false;
    }

    private static boolean isIdentifierChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }

    private static boolean isInstruction(Statement s) {
        return s.end() == ';' && !s.text().startsWith(".");
    }

    private void directive(Statement s, RegisterFile registers) {
        String text = s.text();
        if (text.startsWith(".reg ")) {
            declareRegisters(s, registers);
        } else if (text.startsWith(".shared ") || text.startsWith(".extern .shared ") || text.startsWith(".local ")
                || text.startsWith(".pragma ") || text.startsWith(".loc ") || text.startsWith(".file ")) {
            return; // shared and local: laid out in the first pass; the others carry no semantics
        } else {
            throw fault("unsupported directive", s);
        }
    }

    private void declareRegisters(Statement s, RegisterFile registers) {
        String[] words = s.text().substring(5).trim().split("\\s+", 2);
        if (words.length < 2 || !words[0].startsWith(".")) {
            throw fault("bad register declaration", s);
        }
        if (words[0].startsWith(".v")) {
            throw fault("vector registers are not supported", s);
        }
        PtxType type = PtxType.parse(words[0].substring(1));
        if (type == null) {
            throw fault("unsupported register type " + words[0], s);
        }
        for (String item : words[1].split(",")) {
            String registerName = item.trim();
            if (registerName.isEmpty() || !registers.declare(registerName, type)) {
                throw fault("bad or duplicate register " + registerName, s);
            }
        }
    }

    private void parseHeader() {
        String text = header.text();
        int open = text.indexOf('(');
        int close = text.lastIndexOf(')');
        String before = open < 0 ? text : text.substring(0, open);
        String[] words = before.trim().split("\\s+");
        name = words[words.length - 1];
        String after = close < 0 ? "" : text.substring(close + 1).trim();
        if (open >= 0) {
            int end = 0;
            for (String item : Operands.split(text.substring(open + 1, close))) {
                if (item.isEmpty()) {
                    continue;
                }
                PtxParameter p = PtxParameter.parse(item, end, header.line());
                parameters.add(p);
                end = p.offset() + p.size();
            }
        } else {
            String[] parts = text.split("\\s+");
            after = "";
            for (int i = 0; i < parts.length; i++) {
                if (parts[i].equals(name) && i + 1 < parts.length) {
                    after = String.join(" ", java.util.Arrays.copyOfRange(parts, i + 1, parts.length));
                }
            }
        }
        performanceDirectives(after);
    }

    private void performanceDirectives(String text) {
        Map<String, int[]> directives = new LinkedHashMap<>();
        String current = null;
        List<Integer> values = new ArrayList<>();
        for (String token : text.replace(",", " ").split("\\s+")) {
            if (token.isEmpty()) {
                continue;
            }
            if (token.startsWith(".")) {
                if (current != null) {
                    directives.put(current, values.stream().mapToInt(Integer::intValue).toArray());
                }
                current = token;
                values.clear();
            } else {
                values.add(Integer.parseInt(token));
            }
        }
        if (current != null) {
            directives.put(current, values.stream().mapToInt(Integer::intValue).toArray());
        }
        for (Map.Entry<String, int[]> d : directives.entrySet()) {
            switch (d.getKey()) {
                case ".reqntid": requiredBlock = dims(d.getValue()); break;
                case ".maxntid": maximumBlock = dims(d.getValue()); break;
                case ".minnctapersm": case ".maxnreg": case ".noreturn": break;
                default: throw fault("unsupported kernel directive " + d.getKey(), header);
            }
        }
    }

    private static int[] dims(int[] values) {
        int[] d = {1, 1, 1};
        System.arraycopy(values, 0, d, 0, Math.min(3, values.length));
        return d;
    }

    private DeviceFault fault(String why, Statement s) {
        return new DeviceFault("interpreter", (name == null ? "" : name + ": ") + why + ": " + s.where());
    }
}

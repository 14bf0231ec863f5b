package io.github.batchnorm4j.emulator;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts PTX text into {@link Statement}s: comments removed, whitespace collapsed, line numbers
 * kept. Braces mean two things in PTX: a scope ({@code { ... }} around a function body or an
 * inline-asm block) and a vector operand ({@code {%f1, %f2}}); a brace that opens inside a
 * statement's text is an operand, one at the start of a statement (or after a function header)
 * is a scope.
 */
final class StatementSplitter {
    private final String source;
    private final List<Statement> statements = new ArrayList<>();
    private final StringBuilder text = new StringBuilder();
    private int line = 1;
    private int startLine = 1;
    private int operandDepth;

    private StatementSplitter(String source) {
        this.source = source;
    }

    static List<Statement> split(String source) {
        StatementSplitter splitter = new StatementSplitter(source);
        splitter.run();
        return splitter.statements;
    }

    private void run() {
        int n = source.length();
        for (int i = 0; i < n; i++) {
            char c = source.charAt(i);
            if (c == '/' && i + 1 < n && source.charAt(i + 1) == '/') {
                while (i + 1 < n && source.charAt(i + 1) != '\n') {
                    i++;
                }
                continue;
            }
            if (c == '/' && i + 1 < n && source.charAt(i + 1) == '*') {
                int close = source.indexOf("*/", i + 2);
                int end = close < 0 ? n : close + 2;
                for (int j = i; j < end; j++) {
                    if (source.charAt(j) == '\n') {
                        line++;
                    }
                }
                i = end - 1;
                appendSpace();
                continue;
            }
            if (c == '\n') {
                if (operandDepth == 0 && isLineDirective()) {
                    emit(';');
                }
                line++;
                appendSpace();
                continue;
            }
            if (Character.isWhitespace(c)) {
                appendSpace();
                continue;
            }
            if (c == '"') {
                i = copyString(i);
                continue;
            }
            if (text.length() == 0) {
                startLine = line;
                if (c == '{' || c == '}') {
                    statements.add(new Statement("", line, c));
                    continue;
                }
            }
            if (c == '{') {
                if (operandDepth == 0 && isHeader()) {
                    emit('{');
                    statements.add(new Statement("", line, '{'));
                    continue;
                }
                operandDepth++;
            } else if (c == '}') {
                if (operandDepth == 0) {
                    // A statement left unterminated before a scope closes (e.g. section data).
                    emit('}');
                    statements.add(new Statement("", line, '}'));
                    continue;
                }
                operandDepth--;
            } else if (c == ';' && operandDepth == 0) {
                emit(';');
                continue;
            } else if (c == ':' && operandDepth == 0 && isLabelSoFar()
                    && (i + 1 >= n || source.charAt(i + 1) != ':')) {
                emit(':');
                continue;
            }
            text.append(c);
        }
        if (text.length() > 0) {
            throw new DeviceFault("interpreter", "PTX ends inside an unterminated statement '"
                    + text.toString().trim() + "' (line " + startLine + ")");
        }
    }

    private int copyString(int i) {
        if (text.length() == 0) {
            startLine = line;
        }
        int n = source.length();
        text.append('"');
        int j = i + 1;
        while (j < n && source.charAt(j) != '"') {
            if (source.charAt(j) == '\n') {
                line++;
            }
            text.append(source.charAt(j));
            j++;
        }
        text.append('"');
        return j;
    }

    private void appendSpace() {
        if (text.length() > 0 && text.charAt(text.length() - 1) != ' ') {
            text.append(' ');
        }
    }

    /** .version, .target, .address_size, .file and .loc end at the end of their line. */
    private boolean isLineDirective() {
        if (text.length() == 0 || text.charAt(0) != '.') {
            return false;
        }
        String s = text.toString();
        return s.startsWith(".version ") || s.startsWith(".target ") || s.startsWith(".address_size ")
                || s.startsWith(".file ") || s.startsWith(".loc ");
    }

    /** A function or section header: its '{' opens the body rather than a vector operand. */
    private boolean isHeader() {
        String s = " " + text + " ";
        return s.contains(" .entry ") || s.contains(" .func ") || s.contains(" .section ")
                || s.startsWith(" .section");
    }

    /** True when the text so far is a bare identifier, so a ':' ends a label. */
    private boolean isLabelSoFar() {
        int length = text.length();
        if (length == 0) {
            return false;
        }
        for (int k = 0; k < length; k++) {
            char c = text.charAt(k);
            boolean ok = Character.isLetterOrDigit(c) || c == '_' || c == '$' || (k == 0 && c == '%');
            if (!ok) {
                return false;
            }
        }
        return !Character.isDigit(text.charAt(0));
    }

    private void emit(char end) {
        String s = text.toString().trim();
        text.setLength(0);
        operandDepth = 0;
        if (!s.isEmpty()) {
            statements.add(new Statement(s, startLine, end));
        }
    }
}

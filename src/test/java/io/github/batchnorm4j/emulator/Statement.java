package io.github.batchnorm4j.emulator;

/**
 * One piece of PTX text as the parser sees it: a directive or instruction (ended by ';'), a label
 * (ended by ':'), a function header (ended by the '{' of its body), or a lone '{' or '}'.
 *
 * @param text the text without its terminator, trimmed; empty for a lone brace
 * @param line the 1-based line where the text starts
 * @param end  ';', ':', '{' or '}'
 */
record Statement(String text, int line, char end) {
    boolean isOpen() {
        return end == '{' && text.isEmpty();
    }

    boolean isClose() {
        return end == '}' && text.isEmpty();
    }

    boolean isLabel() {
        return end == ':';
    }

    boolean isHeader() {
        return end == '{' && !text.isEmpty();
    }

    /** "text (line N)", the form every diagnostic quotes. */
    String where() {
        return "'" + text + "' (line " + line + ")";
    }
}

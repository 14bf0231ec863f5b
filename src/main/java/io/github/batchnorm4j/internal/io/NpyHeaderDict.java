package io.github.batchnorm4j.internal.io;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The dict literal inside a {@code .npy} header, such as
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}, parsed by hand.
 *
 * <p>numpy reads it with {@code ast.literal_eval} and then insists on exactly the keys descr,
 * fortran_order and shape, a tuple of ints and a bool. This parser accepts the part of that
 * language real writers produce: keys in single or double quotes and in any order, a plain quoted
 * string for descr, {@code True}/{@code False}, a tuple of non-negative ints (the Python 2
 * {@code L} suffix too, in format versions 1 and 2 only, as numpy does), optional trailing commas,
 * whitespace between tokens. It is stricter than numpy in two places, on purpose: a repeated key
 * (Python keeps the last one silently) is refused, and after the closing brace only numpy's padding
 * may follow, spaces and then at most one final newline, so a header cut short or run into junk
 * cannot pass.
 */
final class NpyHeaderDict {
    private static final List<String> KEYS = List.of("descr", "fortran_order", "shape");

    // The values, set once parse has read the whole header.
    String descr;
    boolean fortranOrder;
    long[] shape;

    private final String text;
    private final boolean longSuffix;
    private final String name;
    private int pos;

    private NpyHeaderDict(String text, boolean longSuffix, String name) {
        this.text = text;
        this.longSuffix = longSuffix;
        this.name = name;
    }

    /**
     * Parses the whole header text (dict plus padding).
     *
     * @param longSuffix whether a dimension may end in {@code L} (format versions 1 and 2)
     * @throws IOException whose message, prefixed by {@code name}, says what is wrong
     */
    static NpyHeaderDict parse(String text, boolean longSuffix, String name) throws IOException {
        NpyHeaderDict dict = new NpyHeaderDict(text, longSuffix, name);
        dict.parseDict();
        return dict;
    }

    private void parseDict() throws IOException {
        if (text.isEmpty()) {
            throw fail("header is empty");
        }
        if (peek() != '{') {
            throw fail("header is not a dict: it starts with " + found() + " instead of '{'");
        }
        pos++;
        Set<String> seen = new HashSet<>();
        skipWhitespace();
        while (peek() != '}') {
            String key = string("a key");
            if (!KEYS.contains(key)) {
                throw fail("header has unexpected key " + quoted(key));
            }
            if (!seen.add(key)) {
                throw fail("header repeats key " + quoted(key));
            }
            skipWhitespace();
            expect(':', "after key " + quoted(key));
            skipWhitespace();
            value(key);
            skipWhitespace();
            if (peek() == ',') {
                pos++;
                skipWhitespace();
            } else if (peek() != '}') {
                throw notClosedOr("header expects ',' or '}' after the value of " + quoted(key));
            }
        }
        pos++;
        padding();
        for (String key : KEYS) {
            if (!seen.contains(key)) {
                throw fail("header lacks key " + quoted(key));
            }
        }
    }

    private void value(String key) throws IOException {
        switch (key) {
            case "descr" -> descr = string("the value of 'descr'");
            case "fortran_order" -> fortranOrder = bool();
            default -> shape = tuple();
        }
    }

    /** numpy pads with spaces and ends with '\n'; numpy itself also takes a header without the newline. */
    private void padding() throws IOException {
        int end = text.endsWith("\n") ? text.length() - 1 : text.length();
        while (pos < end && text.charAt(pos) == ' ') {
            pos++;
        }
        if (pos < end) {
            // The final newline is padding, not junk: leave it out of the message.
            String junk = text.substring(pos, Math.min(end, pos + 12));
            throw fail("header has junk after the header dict: " + shown(junk));
        }
    }

    /** A string in single or double quotes, without escapes (no dtype string or key needs one). */
    private String string(String what) throws IOException {
        char quote = peek();
        if (quote != '\'' && quote != '"') {
            throw notClosedOr("header expects a quoted string as " + what);
        }
        int start = ++pos;
        while (pos < text.length() && text.charAt(pos) != quote) {
            char c = text.charAt(pos);
            if (c == '\\') {
                throw fail("header string has an escape sequence, which no .npy header needs");
            }
            if (c == '\n') {
                break; // a Python string in single quotes cannot span lines
            }
            pos++;
        }
        if (pos >= text.length() || text.charAt(pos) != quote) {
            throw fail("header string " + shown(text.substring(start, Math.min(pos, start + 12))) + " is not closed");
        }
        return text.substring(start, pos++);
    }

    private boolean bool() throws IOException {
        for (String literal : new String[] {"True", "False"}) {
            int after = pos + literal.length();
            if (text.startsWith(literal, pos) && (after == text.length() || !isNameChar(text.charAt(after)))) {
                pos = after;
                return literal.equals("True");
            }
        }
        throw notClosedOr("header value of 'fortran_order' must be True or False");
    }

    /** A tuple of ints: (), (5,), (2, 3) or (2, 3,); (5) is an int in Python, not a tuple. */
    private long[] tuple() throws IOException {
        if (peek() != '(') {
            throw notClosedOr("header value of 'shape' must be a tuple of ints such as (2, 3)");
        }
        int start = pos++;
        List<Long> dims = new ArrayList<>();
        boolean comma = false;
        skipWhitespace();
        while (peek() != ')') {
            dims.add(dimension());
            skipWhitespace();
            if (peek() == ',') {
                comma = true;
                pos++;
                skipWhitespace();
            } else if (peek() != ')') {
                throw notClosedOr("header expects ',' or ')' after a dimension of 'shape'");
            }
        }
        pos++;
        if (dims.size() == 1 && !comma) {
            throw fail("header value of 'shape' " + text.substring(start, pos) + " is an int, not a tuple; "
                    + "a 1-D shape is written (" + dims.get(0) + ",)");
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    private long dimension() throws IOException {
        if (peek() == '-') {
            throw fail("header value of 'shape' has a negative dimension");
        }
        int start = pos;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
        String digits = text.substring(start, pos);
        if (digits.isEmpty()) {
            throw notClosedOr("header value of 'shape' must hold ints");
        }
        if (digits.length() > 1 && digits.charAt(0) == '0') {
            throw fail("header value of 'shape' has dimension " + digits + " with a leading zero (not a Python int)");
        }
        if (longSuffix && peek() == 'L') {
            pos++;
        }
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw fail("header value of 'shape' has dimension " + digits + ", which is too large");
        }
    }

    private void expect(char c, String where) throws IOException {
        if (peek() != c) {
            throw notClosedOr("header expects '" + c + "' " + where);
        }
        pos++;
    }

    /** Python allows any whitespace, newlines included, between the tokens of a bracketed literal. */
    private void skipWhitespace() {
        while (pos < text.length() && " \t\r\n".indexOf(text.charAt(pos)) >= 0) {
            pos++;
        }
    }

    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    /** Running out of text inside the dict means the dict was never closed; say so rather than what was missing. */
    private IOException notClosedOr(String problem) {
        if (pos >= text.length()) {
            return fail("header dict is not closed");
        }
        return fail(problem + ", found " + found());
    }

    private IOException fail(String problem) {
        return new IOException(name + ": .npy " + problem);
    }

    /** The text at the current position (never the end: see notClosedOr), for the error message. */
    private String found() {
        return shown(text.substring(pos, Math.min(text.length(), pos + 12)));
    }

    /** {@code part} in quotes with control characters escaped, so the message stays on one line. */
    private static String shown(String part) {
        StringBuilder shown = new StringBuilder("'");
        for (char c : part.toCharArray()) {
            switch (c) {
                case '\n' -> shown.append("\\n");
                case '\r' -> shown.append("\\r");
                case '\t' -> shown.append("\\t");
                default -> shown.append(c < ' ' || c == 127 ? '?' : c);
            }
        }
        return shown.append("'").toString();
    }

    /** A key for the message, cut short: a corrupt header can hold a long one. */
    private static String quoted(String key) {
        return shown(key.length() > 40 ? key.substring(0, 40) + "..." : key);
    }

    private static boolean isNameChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}

package io.github.batchnorm4j.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code cuda/launch_constants.cuh} against {@link LaunchConstants}: the same names with the same
 * values, none on one side only. The kernels are compiled from the header and the host runs with
 * the class, so a value changed in one alone would launch or lay out buffers the other side does
 * not expect; this fails first, without a GPU.
 */
class LaunchConstantsTest {
    private static final String HEADER = "cuda/launch_constants.cuh";
    /** {@code #define NAME integer}, with an optional trailing comment. */
    private static final Pattern DEFINE = Pattern.compile("#define\\s+([A-Z][A-Z0-9_]*)\\s+(-?\\d+)\\s*(//.*)?");

    @Test
    void headerAndJavaClassNameTheSameValues() throws IOException {
        Map<String, Integer> header = headerConstants(Files.readAllLines(header()));
        Map<String, Integer> java = javaConstants();
        assertTrue(header.size() > 10, "constants found in " + HEADER + ": " + header.keySet());
        List<String> problems = new ArrayList<>();
        for (String name : new TreeSet<>(header.keySet())) {
            if (!java.containsKey(name)) {
                problems.add(name + " is in " + HEADER + " but not in LaunchConstants");
            } else if (!java.get(name).equals(header.get(name))) {
                problems.add(name + " is " + header.get(name) + " in " + HEADER + " but " + java.get(name)
                        + " in LaunchConstants");
            }
        }
        for (String name : new TreeSet<>(java.keySet())) {
            if (!header.containsKey(name)) {
                problems.add(name + " is in LaunchConstants but not in " + HEADER);
            }
        }
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems));
        }
    }

    @Test
    void aDefineThatIsNotAPlainIntegerFailsRatherThanGoingUnchecked() {
        assertThrows(AssertionError.class, () -> headerConstants(List.of("#define MAX_ROWS (1024 / 32)")));
        assertEquals(Map.of("A", 3), headerConstants(List.of("// A", "#define A 3  // three", "#pragma once")));
    }

    /**
     * The header's constants. Any other #define (an expression, a macro with arguments) fails the
     * test rather than being skipped, so no constant of the header goes unchecked.
     */
    private static Map<String, Integer> headerConstants(List<String> lines) {
        Map<String, Integer> constants = new TreeMap<>();
        for (String line : lines) {
            String text = line.trim();
            if (!text.startsWith("#define")) {
                continue;
            }
            Matcher m = DEFINE.matcher(text);
            if (!m.matches()) {
                fail(HEADER + ": not a plain '#define NAME integer': " + text);
            }
            if (constants.put(m.group(1), Integer.valueOf(m.group(2))) != null) {
                fail(HEADER + " defines " + m.group(1) + " twice");
            }
        }
        return constants;
    }

    private static Map<String, Integer> javaConstants() {
        Map<String, Integer> constants = new TreeMap<>();
        for (Field field : LaunchConstants.class.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (!Modifier.isStatic(modifiers)) {
                continue;
            }
            if (field.getType() != int.class || !Modifier.isFinal(modifiers) || !Modifier.isPublic(modifiers)) {
                fail("LaunchConstants." + field.getName() + " is not a public static final int");
            }
            try {
                constants.put(field.getName(), field.getInt(null));
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        return constants;
    }

    /**
     * The header in the source tree: below the working directory (Maven runs tests in the project's
     * root) or, for a test run from elsewhere (the GPU bundle), above the test classes.
     */
    private static Path header() {
        List<Path> tried = new ArrayList<>();
        Path start = Path.of("").toAbsolutePath();
        try {
            Path classes = Path.of(
                    LaunchConstantsTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path dir : List.of(start, classes)) {
                for (Path at = dir; at != null; at = at.getParent()) {
                    Path candidate = at.resolve(HEADER);
                    if (Files.isRegularFile(candidate)) {
                        return candidate;
                    }
                    tried.add(candidate);
                }
            }
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
        return fail(HEADER + " not found; tried " + tried);
    }
}

package io.github.batchnorm4j;

import java.util.Locale;

/**
 * Every system property batchnorm4j reads, declared once: its name, its default, and what it
 * does. A value that does not parse throws {@link IllegalArgumentException} naming the property
 * where it is first used (building a layer, or the CPU path's first call), never an
 * {@code ExceptionInInitializerError}. A blank value counts as unset. README.md's property table
 * lists the same rows (a test checks it).
 */
public enum BatchNormProperty {
    /** Which backend new layers get; over the environment variable {@code BATCHNORM4J_BACKEND}. */
    BACKEND("batchnorm4j.backend", "auto", "auto, cpu or cuda; cuda forced where it does not work is an error"),
    /** Worker threads of the CPU path. */
    CPU_THREADS("batchnorm4j.cpu.threads", "the cores", "worker threads of the CPU path (a positive integer)"),
    /** Whether the CPU loops use the Vector API where the JVM has it. */
    CPU_VECTOR("batchnorm4j.cpu.vector", "true", "false runs the plain-Java twin of the Vector API loops"),
    /** Whether every device call waits and throws a bad batch's error at once. */
    CUDA_SYNCHRONOUS_ERRORS("batchnorm4j.cuda.synchronousErrors", "false",
            "each device call waits and throws at once (debugging)"),
    /** Tests only: the CUDA path runs on the emulated GPU. */
    EMULATOR("batchnorm4j.emulator", "false", "tests only: run the CUDA path on the emulated GPU"),
    /** Tests only: which device the emulator models. */
    EMULATOR_DEVICE("batchnorm4j.emulator.device", "h100", "tests only: h100 (132 SMs) or small (2 SMs)"),
    /** Tests only: a seeded schedule of the emulator's blocks and warps. */
    EMULATOR_SEED("batchnorm4j.emulator.seed", "unset", "tests only: a seeded schedule of blocks and warps (a long)");

    /** The environment variable that {@link #BACKEND} overrides. */
    public static final String BACKEND_ENVIRONMENT = "BATCHNORM4J_BACKEND";

    private final String key;
    private final String defaultValue;
    private final String description;

    BatchNormProperty(String key, String defaultValue, String description) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.description = description;
    }

    /** The property's name, such as {@code batchnorm4j.backend}. */
    public String key() {
        return key;
    }

    /** The default, in words where it depends on the machine ("the cores"). */
    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    /** The value set for this JVM, trimmed; null when unset or blank. */
    public String value() {
        String value = System.getProperty(key);
        return value == null || value.isBlank() ? null : value.trim();
    }

    /** true or false (any case); the default when unset. */
    public boolean booleanValue() {
        String value = value();
        if (value == null) {
            return Boolean.parseBoolean(defaultValue);
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw bad(value, "true or false");
        };
    }

    /** A positive integer; {@code otherwise} when unset. */
    public int positiveIntValue(int otherwise) {
        String value = value();
        if (value == null) {
            return otherwise;
        }
        try {
            int parsed = Integer.parseInt(value);
            if (parsed >= 1) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw bad(value, "a positive integer");
    }

    /** A long, or null when unset. */
    public Long longValue() {
        String value = value();
        if (value == null) {
            return null;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw bad(value, "a whole number");
        }
    }

    /** One of {@code choices} (any case, answered in lower case); the default when unset. */
    public String choiceValue(String... choices) {
        String value = value();
        if (value == null) {
            return defaultValue;
        }
        for (String choice : choices) {
            if (choice.equalsIgnoreCase(value)) {
                return choice;
            }
        }
        throw bad(value, "one of " + String.join(", ", choices));
    }

    /** The exception for a value that does not parse: it names the property and what it needs. */
    private IllegalArgumentException bad(String value, String expected) {
        return new IllegalArgumentException("system property " + key + " is '" + value + "'; use " + expected);
    }
}

package io.github.batchnorm4j.internal;

import java.util.Locale;

/**
 * Which backend layers use: {@code auto} (CUDA where it works, else the CPU), {@code cpu} or
 * {@code cuda}. Set by the system property {@code batchnorm4j.backend}, which overrides the
 * environment variable {@code BATCHNORM4J_BACKEND}; {@code auto} when neither is set.
 */
public enum BackendChoice {
    AUTO, CPU, CUDA;

    public static final String PROPERTY = "batchnorm4j.backend";
    static final String ENVIRONMENT = "BATCHNORM4J_BACKEND";

    /** The choice from the running JVM's property and environment. */
    static BackendChoice configured() {
        return from(System.getProperty(PROPERTY), System.getenv(ENVIRONMENT));
    }

    /** The property wins over the environment variable; blank counts as unset. */
    public static BackendChoice from(String property, String environment) {
        if (property != null && !property.isBlank()) {
            return parse(property, "system property " + PROPERTY);
        }
        if (environment != null && !environment.isBlank()) {
            return parse(environment, "environment variable " + ENVIRONMENT);
        }
        return AUTO;
    }

    static BackendChoice parse(String value, String source) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " is '" + value + "'; use auto, cpu or cuda");
        }
    }
}

package io.github.batchnorm4j.internal.backends;

import io.github.batchnorm4j.BatchNormProperty;
import java.util.Locale;

/**
 * Which backend layers use: {@code auto} (CUDA where it works, else the CPU), {@code cpu} or
 * {@code cuda}. Set by {@link BatchNormProperty#BACKEND}, which overrides the environment variable
 * {@link BatchNormProperty#BACKEND_ENVIRONMENT}; {@code auto} when neither is set.
 */
public enum BackendChoice {
    AUTO, CPU, CUDA;

    public static final String PROPERTY = BatchNormProperty.BACKEND.key();
    static final String ENVIRONMENT = BatchNormProperty.BACKEND_ENVIRONMENT;

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

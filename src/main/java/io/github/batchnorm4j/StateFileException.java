package io.github.batchnorm4j;

import java.io.IOException;
import java.nio.file.Path;

/** A state file that cannot be loaded: missing member, wrong dtype or shape, truncated or corrupt. */
public final class StateFileException extends IOException {
    private static final long serialVersionUID = 1L;

    public StateFileException(Path file, String problem) {
        super(file + ": " + problem);
    }
}

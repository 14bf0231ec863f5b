package io.github.batchnorm4j.internal.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A new, empty file beside a target, for writing it and then renaming it over the target
 * (same directory, so the rename is atomic). Unlike {@link Files#createTempFile}, which makes
 * owner-only files, it gets the permissions any new file gets (the umask), so the renamed result
 * looks like a file the user wrote.
 */
public final class TemporaryFiles {
    private TemporaryFiles() {
    }

    public static Path createBeside(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        for (int attempt = 0; ; attempt++) {
            Path candidate = directory.resolve("." + absolute.getFileName() + "."
                    + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                return Files.createFile(candidate);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 100) {
                    throw e;
                }
            }
        }
    }
}

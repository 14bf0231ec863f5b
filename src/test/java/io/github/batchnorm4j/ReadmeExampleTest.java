package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** README.md's first example compiles against the library and runs, in a JVM of its own, as the README says. */
class ReadmeExampleTest {
    @TempDir
    Path folder;

    @Test
    void theFirstExampleCompilesAndRuns() throws IOException, InterruptedException {
        String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
        int start = readme.indexOf("```java\n");
        assertTrue(start >= 0, "README.md has a java example");
        String source = readme.substring(start + 8, readme.indexOf("```", start + 8));
        assertTrue(source.contains("public class Example"), source);
        Path file = folder.resolve("Example.java");
        Files.writeString(file, source, StandardCharsets.UTF_8);
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        String classPath = System.getProperty("java.class.path");
        assertEquals(0, compiler.run(null, null, null, "-d", folder.toString(), "-cp", classPath, file.toString()),
                "javac of README.md's example");

        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Dbatchnorm4j.backend=cpu", "-cp",
                folder + File.pathSeparator + classPath, "Example"))
                .directory(folder.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the example did not finish: " + output);
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("BatchNorm(C=64") && output.contains("cpu"), output);
        assertTrue(Files.isRegularFile(folder.resolve("bn1.npz")), "the example's state file");
    }
}

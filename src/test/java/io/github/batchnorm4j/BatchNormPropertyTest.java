package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every system property is declared once ({@link BatchNormProperty}), listed in README.md's table
 * with its default, read nowhere else, and a bad value gets an IllegalArgumentException naming the
 * property, in a fresh JVM too, where it would otherwise surface from a class initializer.
 */
class BatchNormPropertyTest {
    private static final Pattern README_ROW = Pattern.compile("^\\| `(batchnorm4j\\.[A-Za-z.]+)`[^|]*\\| ([^|]+) \\|");
    private static final Pattern DIRECT_READ = Pattern.compile(
            "(getProperty|getBoolean|getInteger|getLong)\\(\\s*\"batchnorm4j\\.");

    @Test
    void readmeTableListsEveryPropertyWithItsDefault() throws IOException {
        Map<String, String> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("README.md"), StandardCharsets.UTF_8)) {
            Matcher row = README_ROW.matcher(line);
            if (row.find()) {
                rows.put(row.group(1), row.group(2).replace("`", "").trim());
            }
        }
        Map<String, String> declared = new LinkedHashMap<>();
        for (BatchNormProperty property : BatchNormProperty.values()) {
            declared.put(property.key(), property.defaultValue());
        }
        assertEquals(declared, rows, "README.md's property table against BatchNormProperty");
    }

    @Test
    void noCodeReadsABatchnorm4jPropertyButTheDeclaration() throws IOException {
        List<String> readers = new ArrayList<>();
        for (String root : List.of("src/main/java", "src/test/java", "src/bench/java")) {
            if (!Files.isDirectory(Path.of(root))) {
                continue;
            }
            try (Stream<Path> files = Files.walk(Path.of(root))) {
                for (Path file : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                    if (DIRECT_READ.matcher(Files.readString(file)).find()) {
                        readers.add(file.toString());
                    }
                }
            }
        }
        assertTrue(readers.isEmpty(), "read a property directly instead of through BatchNormProperty: " + readers);
    }

    @Test
    void aBadValueNamesTheProperty() {
        Map<BatchNormProperty, Executable> uses = new LinkedHashMap<>();
        uses.put(BatchNormProperty.CPU_THREADS, () -> BatchNormProperty.CPU_THREADS.positiveIntValue(2));
        uses.put(BatchNormProperty.CPU_VECTOR, BatchNormProperty.CPU_VECTOR::booleanValue);
        uses.put(BatchNormProperty.CUDA_SYNCHRONOUS_ERRORS, () -> BatchNorm.builder(3));
        uses.put(BatchNormProperty.BACKEND, () -> BatchNorm.builder(3).build());
        uses.put(BatchNormProperty.EMULATOR, BatchNormProperty.EMULATOR::booleanValue);
        uses.put(BatchNormProperty.EMULATOR_DEVICE, () -> BatchNormProperty.EMULATOR_DEVICE.choiceValue("h100", "small"));
        uses.put(BatchNormProperty.EMULATOR_SEED, BatchNormProperty.EMULATOR_SEED::longValue);
        assertEquals(BatchNormProperty.values().length, uses.size(), "every property is tried");
        for (Map.Entry<BatchNormProperty, Executable> use : uses.entrySet()) {
            String key = use.getKey().key();
            String saved = System.getProperty(key);
            System.setProperty(key, "bogus");
            try {
                IllegalArgumentException error = assertThrows(IllegalArgumentException.class, use.getValue(), key);
                assertTrue(error.getMessage().startsWith("system property " + key + " is 'bogus'; use "),
                        error.getMessage());
            } finally {
                if (saved == null) {
                    System.clearProperty(key);
                } else {
                    System.setProperty(key, saved);
                }
            }
        }
    }

    @Test
    void zeroThreadsIsRefusedToo() {
        System.setProperty(BatchNormProperty.CPU_THREADS.key(), "0");
        try {
            assertThrows(IllegalArgumentException.class, () -> BatchNormProperty.CPU_THREADS.positiveIntValue(2));
        } finally {
            System.clearProperty(BatchNormProperty.CPU_THREADS.key());
        }
    }

    /** In a fresh JVM the CPU path's first use reads the properties: an exception, not a class-init error. */
    @Test
    void aFreshJvmReportsABadCpuSettingAsAnIllegalArgumentException() throws Exception {
        for (String setting : List.of("-Dbatchnorm4j.cpu.threads=many", "-Dbatchnorm4j.cpu.vector=yes")) {
            String output = runProbe(setting);
            String key = setting.substring(2, setting.indexOf('='));
            assertTrue(output.contains("java.lang.IllegalArgumentException: system property " + key + " is '"),
                    setting + ": " + output);
            assertFalse(output.contains("ExceptionInInitializerError"), setting + ": " + output);
        }
    }

    private static String runProbe(String setting) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-Dbatchnorm4j.backend=cpu", setting, "-cp", System.getProperty("java.class.path"),
                PropertyProbe.class.getName()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the probe JVM did not finish");
        return output;
    }

    /** Builds a CPU layer and trains on one batch, printing what it threw. */
    public static final class PropertyProbe {
        public static void main(String[] args) {
            try (BatchNorm layer = BatchNorm.builder(2).build()) {
                Shape shape = Shape.nc(4, 2);
                layer.forwardTraining(shape, new float[8], new float[8]);
                System.out.println("no exception");
            } catch (Throwable e) {
                System.out.println(e);
            }
        }
    }
}

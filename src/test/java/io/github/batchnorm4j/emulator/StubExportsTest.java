package io.github.batchnorm4j.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.JCudaVersion;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stub driver (target/emulator/libcuda.so.1) exports every cu* name that JCuda's native
 * driver library imports, read with nm from both: a name it lacked would end the JVM with a
 * symbol lookup error at the first call (JCuda binds lazily), with no exception and no message.
 * The functions libcuda_stub.c emulates are the stub's strong symbols, the generated
 * NOT_SUPPORTED fallbacks (libcuda_unsupported.c, scripts/gen-stub-exports) its weak ones.
 *
 * <p>A plain test, not a GPU one: it runs no driver call. It skips, saying why, where nm
 * (binutils) is missing, off linux-x86_64, or where the stub was not built.
 */
class StubExportsTest {
    private static final Path STUB = Path.of("target", "emulator", "libcuda.so.1");
    private static final Path GENERATED = Path.of("src", "test", "native", "libcuda_unsupported.c");
    private static final String REGENERATE = "run scripts/gen-stub-exports and commit " + GENERATED;

    /** JCuda's native driver library, as the class path holds it: what a JCuda program loads. */
    private static String driverLibrary;
    private static Set<String> imports;
    private static Set<String> emulated;
    private static Set<String> fallbacks;

    @BeforeAll
    static void readSymbols(@TempDir Path temporary) throws IOException, InterruptedException {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        assumeTrue(os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64")),
                "stub exports test skipped: the stub driver is built for linux-x86_64 only, this is " + os + "-" + arch);
        assumeTrue(nmWorks(), "stub exports test skipped: nm (binutils) is not installed");
        assumeTrue(Files.isRegularFile(STUB), "stub exports test skipped: " + STUB
                + " is not built (mvn test builds it on Linux; or scripts/build-emulator-driver target/emulator)");

        driverLibrary = "libJCudaDriver-" + JCudaVersion.get() + "-linux-x86_64.so";
        Path driver = temporary.resolve(driverLibrary);
        try (InputStream in = StubExportsTest.class.getClassLoader().getResourceAsStream("lib/" + driverLibrary)) {
            assertNotNull(in, "lib/" + driverLibrary + " is not on the class path (the jcuda-natives jar for linux-x86_64)");
            Files.copy(in, driver, StandardCopyOption.REPLACE_EXISTING);
        }
        imports = new TreeSet<>();
        for (String[] symbol : nm(driver, "--undefined-only")) {
            String name = symbol[symbol.length - 1].replaceFirst("@.*", "");
            if (name.startsWith("cu")) {
                imports.add(name);
            }
        }
        emulated = new TreeSet<>();
        fallbacks = new TreeSet<>();
        for (String[] symbol : nm(STUB, "--defined-only")) {
            if (symbol.length == 3 && symbol[2].startsWith("cu")) {
                switch (symbol[1]) {
                    case "T" -> emulated.add(symbol[2]);
                    case "W" -> fallbacks.add(symbol[2]);
                    default -> { }
                }
            }
        }
        assertTrue(imports.size() > 100, driverLibrary + " imports only " + imports.size() + " cu* names: is nm reading it?");
        System.out.printf("%s imports %d cu* names; the stub emulates %d and answers the other %d with"
                + " CUDA_ERROR_NOT_SUPPORTED%n", driverLibrary, imports.size(), emulated.size(),
                difference(imports, emulated).size());
    }

    @Test
    void theStubExportsEveryNameJCudaImports() {
        Set<String> exported = new TreeSet<>(emulated);
        exported.addAll(fallbacks);
        Set<String> missing = difference(imports, exported);
        assertTrue(missing.isEmpty(), STUB + " lacks " + missing.size() + " of the cu* names " + driverLibrary
                + " imports (a JCuda program calling one dies with exit 127): " + missing + "; " + REGENERATE);
    }

    /** A misspelled emulated name (a _v2 missing) would leave JCuda's call on the NOT_SUPPORTED fallback. */
    @Test
    void everyEmulatedFunctionIsOneJCudaCalls() {
        Set<String> uncalled = difference(emulated, imports);
        assertTrue(uncalled.isEmpty(), "libcuda_stub.c defines " + uncalled + ", which " + driverLibrary
                + " does not import: JCuda calls another name (cuda.h maps most to a _v2 or _v3 one)");
    }

    /** The generated file is the one scripts/gen-stub-exports writes for this JCuda: no name more, none less. */
    @Test
    void theGeneratedFallbacksAreJCudasImports() throws IOException {
        assumeTrue(Files.isRegularFile(GENERATED), "not run from the project directory: no " + GENERATED);
        Set<String> generated = new TreeSet<>();
        Matcher name = Pattern.compile("^(?:NOT_EMULATED\\((cu\\w+)\\)|WEAK CUresult (cu\\w+)\\()", Pattern.MULTILINE)
                .matcher(Files.readString(GENERATED, StandardCharsets.US_ASCII));
        while (name.find()) {
            generated.add(name.group(1) != null ? name.group(1) : name.group(2));
        }
        // looked up by the CUDA runtime with dlsym, not imported by the driver library
        generated.removeAll(Set.of("cuGetExportTable", "cuGetProcAddress", "cuGetProcAddress_v2"));
        assertEquals(imports, generated, GENERATED + " is stale against " + driverLibrary + "; " + REGENERATE);
        assertTrue(fallbacks.containsAll(difference(generated, emulated)),
                STUB + " is older than " + GENERATED + ": rebuild it (scripts/build-emulator-driver target/emulator)");
    }

    private static Set<String> difference(Set<String> a, Set<String> b) {
        Set<String> result = new TreeSet<>(a);
        result.removeAll(b);
        return result;
    }

    private static boolean nmWorks() {
        try {
            Process process = new ProcessBuilder("nm", "--version").redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** nm -D's lines for the library, split at blanks: [address] type name. */
    private static List<String[]> nm(Path library, String which) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("nm", "-D", which, library.toString()).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "nm did not finish on " + library);
        assertEquals(0, process.exitValue(), "nm -D " + which + " " + library + ": " + err);
        List<String[]> lines = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) {
                lines.add(line.trim().split("\\s+"));
            }
        }
        return lines;
    }
}

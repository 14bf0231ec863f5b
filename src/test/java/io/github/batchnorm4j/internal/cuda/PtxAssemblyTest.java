package io.github.batchnorm4j.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import jcuda.nvptxcompiler.JNvPTXCompiler;
import jcuda.nvptxcompiler.nvPTXCompileResult;
import jcuda.nvptxcompiler.nvPTXCompilerHandle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The shipped PTX loads on CUDA 12.x drivers as well as 13.x: it declares the lowered ISA
 * version, exports every kernel the host code launches, and assembles for every architecture
 * from sm_75 with the PTX compiler inside JCuda 12.6.0 (needs no GPU and no driver) and, where
 * ptxas is installed, with ptxas, with no spills and no local memory.
 */
class PtxAssemblyTest {
    private static final String[] JCUDA_ARCHITECTURES = {"sm_75", "sm_80", "sm_86", "sm_89", "sm_90"};
    private static final String[] PTXAS_ARCHITECTURES = {"sm_75", "sm_80", "sm_86", "sm_89", "sm_90", "sm_100",
        "sm_120"};

    static Stream<CudaModules> modules() {
        return Stream.of(CudaModules.values());
    }

    @ParameterizedTest
    @MethodSource("modules")
    void declaresTheLoweredVersionAndEveryKernel(CudaModules module) {
        String ptx = module.ptxText();
        assertTrue(ptx.contains("\n.version " + CudaModules.PTX_VERSION + "\n"),
                module + " must declare .version " + CudaModules.PTX_VERSION);
        assertTrue(ptx.contains("\n.target sm_75\n"), module + " must target sm_75");
        List<String> entries = new ArrayList<>();
        Matcher m = Pattern.compile("\\.visible \\.entry (\\w+)\\(").matcher(ptx);
        while (m.find()) {
            entries.add(m.group(1));
        }
        assertEquals(module.kernels().stream().map(Kernel::symbol).sorted().toList(), entries.stream().sorted().toList(),
                "kernels exported by " + module.resource());
    }

    @ParameterizedTest
    @MethodSource("modules")
    void assemblesWithJCudasPtxCompiler(CudaModules module) {
        byte[] ptx = module.ptx();
        for (String arch : JCUDA_ARCHITECTURES) {
            nvPTXCompilerHandle handle = new nvPTXCompilerHandle();
            assertEquals(nvPTXCompileResult.NVPTXCOMPILE_SUCCESS,
                    JNvPTXCompiler.nvPTXCompilerCreate(handle, ptx.length, ptx));
            try {
                int result = JNvPTXCompiler.nvPTXCompilerCompile(handle, 2, new String[] {"--gpu-name=" + arch,
                    "--verbose"});
                assertEquals(nvPTXCompileResult.NVPTXCOMPILE_SUCCESS, result, module + " for " + arch + ": "
                        + nvPTXCompileResult.stringFor(result) + "\n" + errorLog(handle));
                String info = infoLog(handle);
                assertTrue(info.contains("0 bytes spill stores"), module + " for " + arch + ": " + info);
                assertTrue(!info.matches("(?s).*[1-9]\\d* bytes spill.*"), module + " spills for " + arch + ":\n" + info);
                assertTrue(!info.matches("(?s).*[1-9]\\d* bytes stack frame.*"), module + " uses local memory for "
                        + arch + ":\n" + info);
            } finally {
                JNvPTXCompiler.nvPTXCompilerDestroy(handle);
            }
        }
    }

    private static String errorLog(nvPTXCompilerHandle handle) {
        return log(handle, true);
    }

    private static String infoLog(nvPTXCompilerHandle handle) {
        return log(handle, false);
    }

    private static String log(nvPTXCompilerHandle handle, boolean errors) {
        long[] size = new long[1];
        if (errors) {
            JNvPTXCompiler.nvPTXCompilerGetErrorLogSize(handle, size);
        } else {
            JNvPTXCompiler.nvPTXCompilerGetInfoLogSize(handle, size);
        }
        byte[] log = new byte[(int) size[0]];
        if (errors) {
            JNvPTXCompiler.nvPTXCompilerGetErrorLog(handle, log);
        } else {
            JNvPTXCompiler.nvPTXCompilerGetInfoLog(handle, log);
        }
        return new String(log, StandardCharsets.UTF_8).trim();
    }

    static String ptxas() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            File candidate = new File(dir, "ptxas");
            if (candidate.canExecute()) {
                return candidate.getPath();
            }
        }
        return null;
    }

    @Test
    void assemblesWithPtxasForEveryArchitectureWithoutSpills(@TempDir Path dir) throws Exception {
        String ptxas = ptxas();
        assumeTrue(ptxas != null, "ptxas is not on the PATH: the ptxas check is skipped (JCuda's compiler still ran)");
        for (CudaModules module : CudaModules.values()) {
            Path file = dir.resolve(module.name() + ".ptx");
            Files.writeString(file, module.ptxText());
            for (String arch : PTXAS_ARCHITECTURES) {
                Process process = new ProcessBuilder(ptxas, "-arch=" + arch, "-v", "-o",
                        dir.resolve("out.cubin").toString(), file.toString()).redirectErrorStream(true).start();
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(process.waitFor(120, TimeUnit.SECONDS), "ptxas timed out");
                assertEquals(0, process.exitValue(), module + " for " + arch + ":\n" + output);
                assertTrue(output.contains("0 bytes spill stores"), output);
                assertTrue(!output.matches("(?s).*[1-9]\\d* bytes spill.*"), module + " spills for " + arch + ":\n" + output);
                assertTrue(!output.matches("(?s).*[1-9]\\d* bytes stack frame.*"),
                        module + " uses local memory for " + arch + ":\n" + output);
            }
        }
    }
}

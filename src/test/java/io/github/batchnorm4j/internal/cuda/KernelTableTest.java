package io.github.batchnorm4j.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link Kernel}'s table against the shipped PTX: every {@code .entry} of every module is in the
 * table under that module, every kernel of the table is exported by its module, and each kernel's
 * parameters agree in count, order and type. PTX declares pointers and 64-bit integers alike as
 * {@code .u64}; a parameter is taken for a pointer when the kernel converts it to a global address
 * ({@code cvta.to.global.u64}), which every pointer of these kernels is and no integer is.
 */
class KernelTableTest {
    private static final Pattern ENTRY = Pattern.compile("\\.entry (\\w+)\\(\\s*(.*?)\\)\\s*\\{(.*?)\\n\\}",
            Pattern.DOTALL);
    private static final Pattern PARAM = Pattern.compile("\\.param \\.(\\w+) (\\w+)");

    @Test
    void everyKernelOfTheTableMatchesItsPtxEntry() {
        Map<String, Kernel> table = new LinkedHashMap<>();
        for (Kernel kernel : Kernel.values()) {
            table.put(kernel.symbol(), kernel);
        }
        int checked = 0;
        List<String> problems = new ArrayList<>();
        for (CudaModules module : CudaModules.values()) {
            Map<String, List<Kernel.Parameter>> entries = entries(module.ptxText());
            for (Map.Entry<String, List<Kernel.Parameter>> entry : entries.entrySet()) {
                Kernel kernel = table.get(entry.getKey());
                if (kernel == null) {
                    problems.add(module + " exports " + entry.getKey() + ", which the table lacks");
                } else if (kernel.module() != module) {
                    problems.add(entry.getKey() + " is in " + module + " but the table says " + kernel.module());
                } else if (!kernel.parameters().equals(entry.getValue())) {
                    problems.add(entry.getKey() + ": the table says " + describe(kernel) + ", the PTX says "
                            + entry.getValue());
                } else {
                    checked++;
                }
            }
            for (Kernel kernel : module.kernels()) {
                if (!entries.containsKey(kernel.symbol())) {
                    problems.add("the table puts " + kernel.symbol() + " in " + module + ", whose PTX lacks it");
                }
            }
        }
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems));
        }
        assertEquals(Kernel.values().length, checked, "kernels checked");
    }

    /**
     * The packed parameter buffer (KernelCall) puts each parameter where the PTX's .param space
     * has it, and is exactly as long: the driver takes the buffer as the kernel's parameters.
     */
    @Test
    void packedParametersLieWhereThePtxReadsThem() {
        int checked = 0;
        for (CudaModules module : CudaModules.values()) {
            io.github.batchnorm4j.emulator.PtxModule ptx = io.github.batchnorm4j.emulator.PtxModule.parse(module.ptxText());
            for (Kernel kernel : module.kernels()) {
                io.github.batchnorm4j.emulator.PtxKernel entry = ptx.kernel(kernel.symbol());
                int[] offsets = KernelCall.offsets(kernel);
                List<Integer> expected = new ArrayList<>();
                entry.parameters().forEach(p -> expected.add(p.offset()));
                expected.add(entry.parameterBytes());
                List<Integer> actual = new ArrayList<>();
                for (int offset : offsets) {
                    actual.add(offset);
                }
                assertEquals(expected, actual, kernel.symbol() + ": offsets of each parameter, then the size");
                checked++;
            }
        }
        assertEquals(Kernel.values().length, checked, "kernels checked");
    }

    @Test
    void theParserTellsEveryKindApart() {
        String ptx = """
                .visible .entry k(
                	.param .u64 k_param_0,
                	.param .u64 k_param_1,
                	.param .u32 k_param_2,
                	.param .f64 k_param_3
                )
                {
                	ld.param.u64 	%rd1, [k_param_0];
                	ld.param.u64 	%rd2, [k_param_1];
                	cvta.to.global.u64 	%rd3, %rd1;
                }
                """;
        assertEquals(List.of(Kernel.Parameter.POINTER, Kernel.Parameter.LONG, Kernel.Parameter.INT,
                Kernel.Parameter.DOUBLE), entries(ptx).get("k"));
    }

    /** Each {@code .entry} of a PTX module with its parameter kinds, in order. */
    static Map<String, List<Kernel.Parameter>> entries(String ptx) {
        Map<String, List<Kernel.Parameter>> entries = new LinkedHashMap<>();
        Matcher entry = ENTRY.matcher(ptx);
        while (entry.find()) {
            String body = entry.group(3);
            List<Kernel.Parameter> kinds = new ArrayList<>();
            Matcher param = PARAM.matcher(entry.group(2));
            while (param.find()) {
                kinds.add(kind(param.group(1), param.group(2), body));
            }
            entries.put(entry.group(1), kinds);
        }
        assertTrue(!entries.isEmpty(), "no .entry found");
        return entries;
    }

    private static Kernel.Parameter kind(String type, String name, String body) {
        switch (type) {
            case "u32", "s32":
                return Kernel.Parameter.INT;
            case "f64":
                return Kernel.Parameter.DOUBLE;
            case "u64", "s64":
                Matcher load = Pattern.compile("ld\\.param\\.[us]64\\s+(%\\w+), \\[" + name + "\\];").matcher(body);
                while (load.find()) {
                    if (Pattern.compile("cvta\\.to\\.global\\.u64\\s+%\\w+, " + Pattern.quote(load.group(1)) + ";")
                            .matcher(body).find()) {
                        return Kernel.Parameter.POINTER;
                    }
                }
                return Kernel.Parameter.LONG;
            default:
                throw new AssertionError("parameter " + name + " has type ." + type + ", which no table kind maps to");
        }
    }

    private static String describe(Kernel kernel) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < kernel.parameters().size(); i++) {
            parts.add(kernel.parameterNames().get(i) + ":" + kernel.parameters().get(i));
        }
        return parts.toString();
    }
}

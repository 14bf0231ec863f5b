package io.github.batchnorm4j.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every kernel of the three shipped modules parses and decodes (an unknown instruction would
 * throw), every instruction line of its body is decoded, and its .param list is the PTX's.
 */
class ShippedModulesTest {
    private static final Pattern ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\(([^)]*)\\)", Pattern.DOTALL);
    private static final Pattern PARAM = Pattern.compile("\\.param \\.(\\w+) (\\w+)");

    @Test
    void everyKernelDecodesWithTheParameterListThePtxDeclares() {
        int kernels = 0;
        for (String name : Fixtures.SHIPPED) {
            String text = Fixtures.shippedText(name);
            PtxModule module = PtxModule.parse(text);
            Matcher entry = ENTRY.matcher(text);
            List<String> declared = new ArrayList<>();
            while (entry.find()) {
                String kernelName = entry.group(1);
                declared.add(kernelName);
                PtxKernel kernel = module.kernel(kernelName);
                assertNotNull(kernel, kernelName);
                Matcher param = PARAM.matcher(entry.group(2));
                int index = 0;
                int end = 0;
                while (param.find()) {
                    PtxParameter p = kernel.parameters().get(index++);
                    int size = Integer.parseInt(param.group(1).substring(1)) / 8;
                    int offset = (end + size - 1) / size * size;
                    assertEquals(new PtxParameter(param.group(2), param.group(1), size, size, offset), p);
                    end = offset + size;
                }
                assertEquals(index, kernel.parameters().size(), kernelName);
                assertEquals(end, kernel.parameterBytes(), kernelName);
                assertEquals(instructionLines(text, entry.end()) + 1, kernel.instructionCount(),
                        kernelName + ": every instruction decoded, plus the implicit exit");
                kernels++;
            }
            assertEquals(declared, module.kernels().stream().map(PtxKernel::name).toList());
        }
        assertEquals(8, kernels);
        assertNull(Fixtures.shipped("batch_norm_normalize").kernel("no_such_kernel"));
    }

    /** Instruction lines of the body that starts after {@code from}: indented, not a directive. */
    private static int instructionLines(String text, int from) {
        int open = text.indexOf("\n{", from);
        int close = text.indexOf("\n}", open);
        int count = 0;
        for (String line : text.substring(open + 2, close).split("\n")) {
            String s = line.trim();
            if (!s.isEmpty() && !s.startsWith("//") && !s.startsWith(".") && !s.endsWith(":")
                    && !s.startsWith("{") && !s.startsWith("}")) {
                count++;
            }
        }
        return count;
    }

    @Test
    void staticSharedMemoryIsLaidOutWithAlignment() {
        PtxModule statistics = Fixtures.shipped("batch_norm_statistics");
        // last (1 byte), first_bad and first_overflow (4-aligned, to 12), new_weight (8-aligned, 16 to 24),
        // first_plane's plane (24 to 32), warp_results[384] (4-aligned).
        assertEquals(416, Fixtures.kernel(statistics, "bn_statistics_nchw").staticSharedBytes());
        // column (32 * 33 * 12 bytes) and the four finishing-step variables.
        assertEquals(12696, Fixtures.kernel(statistics, "bn_statistics_channels_last").staticSharedBytes());
        PtxModule backward = Fixtures.shipped("batch_norm_backward");
        // last (1 byte) and the finish's first_bad (4-aligned, to 8), first_plane's plane (8 bytes),
        // then block_sum2's two arrays of 32 doubles.
        assertEquals(528, Fixtures.kernel(backward, "bn_backward_sums_nchw").staticSharedBytes());
        assertEquals(0, Fixtures.kernel(Fixtures.shipped("batch_norm_normalize"), "bn_normalize_nchw").staticSharedBytes());
    }
}

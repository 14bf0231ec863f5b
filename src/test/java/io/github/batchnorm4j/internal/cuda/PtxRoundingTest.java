package io.github.batchnorm4j.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shipped PTX is the arithmetic the GPU runs, so the emulator, which rounds each instruction,
 * computes what the GPU computes. ptxas may contract an fp32 or fp64 {@code add}, {@code sub} or
 * {@code mul} written without a rounding modifier into a fused multiply-add with a neighbour;
 * with an explicit one ({@code .rn .rz .rm .rp}) it may not. {@code fma} and {@code mad} need one
 * too ({@code mad.f32} without it is the legacy contracted form). scripts/build-ptx builds with
 * {@code nvcc -fmad=false}, which writes {@code .rn} on all of them; the fused multiply-adds the
 * kernels mean are written in cuda/ and appear as {@code fma.rn}. Nor may the PTX hold an
 * approximate instruction ({@code .approx}, {@code .full}, the transcendental ones), whose
 * result the GPU does not define to the bit, so the emulator cannot reproduce it.
 */
class PtxRoundingTest {
    /** Opcode and dot-separated modifiers of a statement, after an optional guard predicate. */
    private static final Pattern INSTRUCTION = Pattern.compile("^\\s*(?:@!?%\\w+\\s+)?([a-z][a-z0-9_]*)((?:\\.[a-z0-9_]+)*)(?:\\s|$)");
    private static final Set<String> CONTRACTIBLE = Set.of("add", "sub", "mul", "fma", "mad");
    private static final Set<String> FLOAT_TYPES = Set.of("f32", "f64");
    private static final Set<String> ROUNDINGS = Set.of("rn", "rz", "rm", "rp");
    /** Instructions PTX has only in approximate forms. */
    private static final Set<String> APPROXIMATE_ONLY = Set.of("sin", "cos", "lg2", "ex2", "tanh", "rsqrt");
    private static final Set<String> APPROXIMATE = Set.of("approx", "full");

    @Test
    void everyFloatAddSubMulFmaAndMadOfTheShippedPtxHasARoundingModifier() {
        List<String> problems = new ArrayList<>();
        for (CudaModules module : CudaModules.values()) {
            problems.addAll(unrounded(module.resource(), module.ptxText()));
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " fp32/fp64 add, sub, mul, fma or mad without a rounding modifier, which ptxas may"
                    + " contract (build the PTX with scripts/build-ptx, which passes nvcc -fmad=false; write a wanted"
                    + " fused multiply-add as __fmaf_rn or __fma_rn):\n  " + String.join("\n  ", problems));
        }
    }

    @Test
    void theShippedPtxHoldsNoApproximateInstruction() {
        List<String> problems = new ArrayList<>();
        for (CudaModules module : CudaModules.values()) {
            problems.addAll(approximate(module.resource(), module.ptxText()));
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " approximate instructions, whose results the emulator does not reproduce to the"
                    + " bit:\n  " + String.join("\n  ", problems));
        }
    }

    /** The check itself, on lines it must flag and lines it must pass. */
    @Test
    void flagsArithmeticWithoutRoundingAndNothingElse() {
        String ptx = String.join("\n",
                "// add.f32 in a comment is not an instruction",
                "\tadd.f32 \t%f1, %f2, %f3;",
                "\tsub.ftz.f32 \t%f1, %f2, %f3;",
                "@%p1 mul.f64 \t%fd1, %fd2, %fd3;",
                "\t@!%p2 add.sat.f32 %f1, %f2, %f3;",
                "\tmad.f32 \t%f1, %f2, %f3, %f4;",
                "\tadd.rn.f32 \t%f1, %f2, %f3;",
                "\tsub.rz.ftz.f32 \t%f1, %f2, %f3;",
                "\tmul.rm.f64 \t%fd1, %fd2, %fd3;",
                "\tfma.rn.f64 \t%fd1, %fd2, %fd3, %fd4;",
                "\tmad.rp.ftz.f32 \t%f1, %f2, %f3, %f4;",
                "\tadd.s64 \t%rd1, %rd2, %rd3;",
                "\tmad.lo.s32 \t%r1, %r2, %r3, %r4;",
                "\tmul.wide.u32 \t%rd1, %r2, 4;",
                "\tdiv.rn.f64 \t%fd1, %fd2, %fd3;",
                "\tadd.f64 %fd1, %fd1, %fd2; mul.rn.f64 %fd3, %fd3, %fd3; sub.f32 %f1, %f1, %f2;");
        assertEquals(List.of("T.ptx:2: add.f32 \t%f1, %f2, %f3", "T.ptx:3: sub.ftz.f32 \t%f1, %f2, %f3",
                "T.ptx:4: @%p1 mul.f64 \t%fd1, %fd2, %fd3", "T.ptx:5: @!%p2 add.sat.f32 %f1, %f2, %f3",
                "T.ptx:6: mad.f32 \t%f1, %f2, %f3, %f4", "T.ptx:16: add.f64 %fd1, %fd1, %fd2",
                "T.ptx:16: sub.f32 %f1, %f1, %f2"), unrounded("T.ptx", ptx));
        String approximate = String.join("\n", "\trsqrt.approx.f64 %fd1, %fd2;", "\tdiv.full.f32 %f1, %f2, %f3;",
                "\tex2.approx.ftz.f32 %f1, %f2;", "\tsqrt.rn.f64 %fd1, %fd2;", "\trcp.rn.f64 %fd1, %fd2;",
                "\tdiv.rn.f32 %f1, %f2, %f3;", "\tcvt.rn.f32.f64 %f1, %fd1;");
        assertEquals(List.of("A.ptx:1: rsqrt.approx.f64 %fd1, %fd2", "A.ptx:2: div.full.f32 %f1, %f2, %f3",
                "A.ptx:3: ex2.approx.ftz.f32 %f1, %f2"), approximate("A.ptx", approximate));
    }

    /** "file:line: instruction" for each fp32/fp64 add, sub, mul, fma or mad without .rn .rz .rm .rp. */
    static List<String> unrounded(String file, String ptx) {
        List<String> problems = new ArrayList<>();
        forEachInstruction(file, ptx, (where, opcode, modifiers, text) -> {
            if (CONTRACTIBLE.contains(opcode) && modifiers.stream().anyMatch(FLOAT_TYPES::contains)
                    && modifiers.stream().noneMatch(ROUNDINGS::contains)) {
                problems.add(where + text);
            }
        });
        return problems;
    }

    /** "file:line: instruction" for each .approx or .full form and each transcendental instruction. */
    static List<String> approximate(String file, String ptx) {
        List<String> problems = new ArrayList<>();
        forEachInstruction(file, ptx, (where, opcode, modifiers, text) -> {
            if (APPROXIMATE_ONLY.contains(opcode) || modifiers.stream().anyMatch(APPROXIMATE::contains)) {
                problems.add(where + text);
            }
        });
        return problems;
    }

    private interface InstructionVisitor {
        void visit(String where, String opcode, List<String> modifiers, String text);
    }

    private static void forEachInstruction(String file, String ptx, InstructionVisitor visitor) {
        String[] lines = ptx.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int comment = line.indexOf("//");
            if (comment >= 0) {
                line = line.substring(0, comment);
            }
            for (String statement : line.split(";")) {
                Matcher m = INSTRUCTION.matcher(statement);
                if (!m.find()) {
                    continue;
                }
                List<String> modifiers = m.group(2).isEmpty() ? List.of()
                        : List.of(m.group(2).substring(1).split("\\."));
                visitor.visit(file + ":" + (i + 1) + ": ", m.group(1), modifiers, statement.strip());
            }
        }
    }
}

package io.github.batchnorm4j.emulator;

import java.util.List;

/**
 * Decodes one instruction statement: the guard ({@code @%p} or {@code @!%p}), the opcode and its
 * modifiers, and the operands, dispatching to the decoder of the instruction's family.
 */
final class InstructionDecoder {
    private InstructionDecoder() {
    }

    static Instruction decode(String text, int line, Operands operands, MemoryDecoder.SlotCounter slots) {
        Instruction.Builder b = new Instruction.Builder(text, line);
        String rest = text;
        if (rest.startsWith("@")) {
            int space = rest.indexOf(' ');
            if (space < 0) {
                throw new DecodeException("guard without an instruction");
            }
            String guard = rest.substring(1, space);
            if (guard.startsWith("!")) {
                b.guardNegated = true;
                guard = guard.substring(1);
            }
            b.guard = operands.predicate(guard);
            rest = rest.substring(space + 1).trim();
        }
        int space = rest.indexOf(' ');
        String opcode = space < 0 ? rest : rest.substring(0, space);
        String operandText = space < 0 ? "" : rest.substring(space + 1).trim();
        int dot = opcode.indexOf('.');
        String name = dot < 0 ? opcode : opcode.substring(0, dot);
        Modifiers m = new Modifiers(opcode);
        List<String> ops = Operands.split(operandText);
        if (ControlDecoder.handles(name)) {
            ControlDecoder.decode(name, m, ops, b, operands);
        } else if (name.equals("ld") || name.equals("st") || name.equals("atom") || name.equals("red")) {
            MemoryDecoder.decode(name, m, ops, b, operands, slots);
        } else if (name.equals("mov") || name.equals("setp") || name.equals("selp") || name.equals("cvt")
                || name.equals("cvta")) {
            DataDecoder.decode(name, m, ops, b, operands);
        } else if (FloatDecoder.handles(name) || hasFloatType(opcode)) {
            FloatDecoder.decode(name, m, ops, b, operands);
        } else if (isInteger(name)) {
            IntegerDecoder.decode(name, m, ops, b, operands);
        } else if (name.equals("call")) {
            throw new DecodeException("function calls (call, .func) are not supported");
        } else {
            throw new DecodeException("unsupported instruction " + opcode);
        }
        m.finish();
        if (b.op == 0) {
            throw new IllegalStateException("decoder left no opcode for " + text);
        }
        return b.build();
    }

    private static boolean hasFloatType(String opcode) {
        String last = opcode.substring(opcode.lastIndexOf('.') + 1);
        return last.startsWith("f") || last.startsWith("bf") || last.equals("tf32");
    }

    private static boolean isInteger(String name) {
        switch (name) {
            case "add": case "sub": case "mul": case "mad": case "div": case "rem": case "min": case "max":
            case "abs": case "neg": case "not": case "cnot": case "and": case "or": case "xor": case "shl":
            case "shr": case "popc": case "clz": case "brev": case "bfe": case "bfi": case "bfind":
            case "prmt": case "lop3": case "sad": case "mul24": case "mad24":
                return true;
            default:
                return false;
        }
    }
}

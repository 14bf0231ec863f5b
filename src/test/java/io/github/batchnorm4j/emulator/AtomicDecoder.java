package io.github.batchnorm4j.emulator;

import java.util.List;

/** Decodes atom (d, [a], b{, c}) and red ([a], b), on global, shared or generic addresses. */
final class AtomicDecoder {
    private AtomicDecoder() {
    }

    static void decode(String name, Modifiers m, List<String> ops, Instruction.Builder b, Operands o,
                       StateSpace space) {
        if (space == StateSpace.PARAM || space == StateSpace.LOCAL) {
            throw new DecodeException(name + " has no .param form");
        }
        boolean reduction = name.equals("red");
        String opName = m.takeAny("and", "or", "xor", "cas", "exch", "add", "inc", "dec", "min", "max");
        if (opName == null) {
            throw new DecodeException(name + " needs an operation in " + m.opcode());
        }
        PtxType t = m.requireType();
        if (t == PtxType.PRED || t.bits < 32) {
            throw new DecodeException("unsupported type ." + t.ptxName() + " in " + m.opcode());
        }
        int op = AtomicOps.parse(opName);
        boolean valid;
        switch (op) {
            case AtomicOps.AND: case AtomicOps.OR: case AtomicOps.XOR: case AtomicOps.CAS: case AtomicOps.EXCH:
                valid = t.kind == PtxType.Kind.BITS || !t.isFloat() && op == AtomicOps.CAS;
                break;
            case AtomicOps.ADD: valid = t != PtxType.S64 && t.kind != PtxType.Kind.BITS; break;
            case AtomicOps.INC: case AtomicOps.DEC: valid = t == PtxType.U32; break;
            default: valid = t.isInteger() && t.kind != PtxType.Kind.BITS; break;
        }
        if (!valid) {
            throw new DecodeException("unsupported type ." + t.ptxName() + " for " + name + "." + opName);
        }
        b.op(Opcode.ATOM, t, InstructionClass.MEMORY);
        b.sub = op;
        b.space = space;
        b.size = t.bytes();
        b.accessKind = AccessKind.ATOMIC;
        int operands = (reduction ? 2 : 3) + (op == AtomicOps.CAS ? 1 : 0);
        IntegerDecoder.expect(ops, operands);
        int next = 0;
        b.d = reduction ? o.destination("_") : o.destination(ops.get(next++));
        Operands.Address address = o.address(ops.get(next++), space);
        b.a = address.base();
        b.displacement = address.displacement();
        b.b = o.source(ops.get(next++), t);
        if (op == AtomicOps.CAS) {
            b.c = o.source(ops.get(next), t);
        }
    }
}

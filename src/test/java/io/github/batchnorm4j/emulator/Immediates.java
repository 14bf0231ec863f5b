package io.github.batchnorm4j.emulator;

/**
 * PTX literals as register bits: integers (decimal, {@code 0x} hex, {@code 0b} binary, octal with
 * a leading 0, optional {@code U} suffix), {@code 0fXXXXXXXX} single and {@code 0dXXXXXXXXXXXXXXXX}
 * double hex floats, and decimal floats. A literal is converted to the operand's type: an integer
 * or decimal given to a float operand becomes that value in the type's format; a hex float given
 * to an integer or bit operand keeps its bits.
 */
final class Immediates {
    private Immediates() {
    }

    static long parse(String text, PtxType type) {
        String t = text.trim();
        boolean negative = t.startsWith("-");
        String body = negative ? t.substring(1) : t.startsWith("+") ? t.substring(1) : t;
        String lower = body.toLowerCase(java.util.Locale.ROOT);
        boolean toFloat = type != null && type.isFloat();
        if (lower.startsWith("0f") && lower.length() == 10) {
            int bits = (int) Long.parseLong(lower.substring(2), 16);
            if (negative) {
                bits ^= 0x80000000;
            }
            if (type == PtxType.F64) {
                return Double.doubleToRawLongBits(Float.intBitsToFloat(bits));
            }
            return bits & 0xFFFFFFFFL;
        }
        if (lower.startsWith("0d") && lower.length() == 18) {
            long bits = Long.parseUnsignedLong(lower.substring(2), 16);
            if (negative) {
                bits ^= Long.MIN_VALUE;
            }
            if (type == PtxType.F32) {
                return Float.floatToRawIntBits((float) Double.longBitsToDouble(bits)) & 0xFFFFFFFFL;
            }
            return bits;
        }
        boolean decimalFloat = !lower.startsWith("0x") && (lower.contains(".") || lower.contains("e"));
        if (decimalFloat) {
            double value;
            try {
                value = Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw new DecodeException("bad literal " + text);
            }
            if (type == PtxType.F32) {
                return Float.floatToRawIntBits((float) value) & 0xFFFFFFFFL;
            }
            if (type == PtxType.F64) {
                return Double.doubleToRawLongBits(value);
            }
            throw new DecodeException("floating-point literal " + text + " for a non-float operand");
        }
        long value = parseInteger(t);
        if (toFloat) {
            return type == PtxType.F32 ? Float.floatToRawIntBits((float) value) & 0xFFFFFFFFL
                    : Double.doubleToRawLongBits((double) value);
        }
        if (type == PtxType.PRED) {
            return value != 0 ? 1 : 0;
        }
        return value;
    }

    static long parseInteger(String text) {
        String t = text.trim();
        boolean negative = t.startsWith("-");
        String body = negative || t.startsWith("+") ? t.substring(1) : t;
        if (body.endsWith("U") || body.endsWith("u")) {
            body = body.substring(0, body.length() - 1);
        }
        long value;
        try {
            String lower = body.toLowerCase(java.util.Locale.ROOT);
            if (lower.startsWith("0x")) {
                value = Long.parseUnsignedLong(lower.substring(2), 16);
            } else if (lower.startsWith("0b")) {
                value = Long.parseUnsignedLong(lower.substring(2), 2);
            } else if (lower.length() > 1 && lower.startsWith("0")) {
                value = Long.parseUnsignedLong(lower.substring(1), 8);
            } else {
                value = Long.parseUnsignedLong(lower);
            }
        } catch (NumberFormatException e) {
            throw new DecodeException("bad integer literal " + text);
        }
        return negative ? -value : value;
    }
}

package io.github.batchnorm4j.emulator;

import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Host memory at a native address (a pinned Java array or a direct buffer that JCuda hands the
 * driver), read and written with {@link Unsafe}: the stub driver passes the address, and wrapping
 * it in a ByteBuffer would cost an object per copy on the caller's thread.
 */
final class HostMemory {
    private static final Unsafe UNSAFE = unsafe();
    private static final long BYTES = Unsafe.ARRAY_BYTE_BASE_OFFSET;

    private HostMemory() {
    }

    /** Copies {@code length} bytes from host {@code address} into {@code target} at {@code offset}. */
    static void read(long address, byte[] target, int offset, int length) {
        UNSAFE.copyMemory(null, address, target, BYTES + offset, length);
    }

    /** Copies {@code length} bytes of {@code source} from {@code offset} to host {@code address}. */
    static void write(long address, byte[] source, int offset, int length) {
        UNSAFE.copyMemory(source, BYTES + offset, null, address, length);
    }

    static byte[] bytes(long address, long length) {
        byte[] copy = new byte[Math.toIntExact(length)];
        read(address, copy, 0, copy.length);
        return copy;
    }

    private static Unsafe unsafe() {
        try {
            Field field = Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (Unsafe) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the emulator copies host memory through sun.misc.Unsafe", e);
        }
    }
}

package io.github.batchnorm4j.emulator;

/**
 * Why one instruction could not be decoded; the kernel parser turns it into a {@link DeviceFault}
 * ("interpreter") that names the instruction text and its line.
 */
final class DecodeException extends RuntimeException {
    DecodeException(String message) {
        super(message);
    }
}

package io.github.batchnorm4j.emulator;

import io.github.batchnorm4j.BatchNormProperty;
import java.util.Locale;

/**
 * The GPU the emulator says it is: the attributes a program reads with cuDeviceGetAttribute.
 * An H100 (132 SMs) and a small device with 2 SMs, so launch geometry is exercised both where
 * the grid is limited by the data and where it is limited by the device. Chosen with the system
 * property {@code batchnorm4j.emulator.device} (h100, small); H100 by default.
 */
public enum DeviceModel {
    H100("NVIDIA H100 80GB HBM3 (emulated)", 132, 9, 0, 80L << 30),
    SMALL("Small GPU, 2 SMs (emulated)", 2, 7, 5, 4L << 30);

    public final String name;
    public final int multiprocessors;
    public final int major;
    public final int minor;
    public final long totalMemory;

    DeviceModel(String name, int multiprocessors, int major, int minor, long totalMemory) {
        this.name = name;
        this.multiprocessors = multiprocessors;
        this.major = major;
        this.minor = minor;
        this.totalMemory = totalMemory;
    }

    /** The model the system property names, H100 when it is absent. */
    public static DeviceModel configured() {
        String value = BatchNormProperty.EMULATOR_DEVICE.choiceValue("h100", "small");
        return valueOf(value.toUpperCase(Locale.ROOT));
    }

    /**
     * The value of a CUdevice_attribute (the driver API's numbering), or -1 for one the emulator
     * does not model (the stub then fails the call with CUDA_ERROR_INVALID_VALUE).
     */
    public long attribute(int attribute) {
        return switch (attribute) {
            case 1 -> 1024; // MAX_THREADS_PER_BLOCK
            case 2, 3 -> 1024; // MAX_BLOCK_DIM_X, _Y
            case 4 -> 64; // MAX_BLOCK_DIM_Z
            case 5 -> Integer.MAX_VALUE; // MAX_GRID_DIM_X
            case 6, 7 -> 65535; // MAX_GRID_DIM_Y, _Z
            case 8 -> 48 * 1024; // MAX_SHARED_MEMORY_PER_BLOCK
            case 10 -> 32; // WARP_SIZE
            case 12 -> 65536; // MAX_REGISTERS_PER_BLOCK
            case 16 -> multiprocessors; // MULTIPROCESSOR_COUNT
            case 39 -> 2048; // MAX_THREADS_PER_MULTIPROCESSOR
            case 75 -> major; // COMPUTE_CAPABILITY_MAJOR
            case 76 -> minor; // COMPUTE_CAPABILITY_MINOR
            default -> -1;
        };
    }
}

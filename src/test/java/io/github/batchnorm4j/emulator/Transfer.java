package io.github.batchnorm4j.emulator;

/** The driver calls that move bytes outside a kernel: copies in each direction and memsets. */
public enum Transfer {
    HOST_TO_DEVICE, DEVICE_TO_HOST, DEVICE_TO_DEVICE, MEMSET
}

package io.github.batchnorm4j.internal.cuda;

/**
 * A kernel's pointer parameter: the device address it holds when the kernel is launched, read
 * then, so a buffer that grew or an argument aimed at a caller's tensor is launched where it
 * points now ({@link KernelCall} writes it into the packed parameter buffer).
 */
@FunctionalInterface
interface KernelPointer {
    long deviceAddress();
}

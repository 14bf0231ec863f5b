package io.github.batchnorm4j.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import org.junit.jupiter.api.Test;

/**
 * The launch-argument check of the host side: a kernel's arguments are built from {@link Kernel}'s
 * table (which {@link KernelTableTest} holds to the PTX's .param lists), and a call with pointers
 * or scalars of the wrong count or type fails before the driver is called. The driver stub of the
 * emulator cannot see this (cuLaunchKernel's argument array carries no length), so it is checked
 * here, where it is decided. No test here reaches the driver.
 */
class KernelCallTest {
    /** bn_normalize_channels_last: pointers x, y, params; scalars total, channels (long long), vector (int). */
    private static KernelCall normalize() {
        return new KernelCall(Kernel.BN_NORMALIZE_CHANNELS_LAST, new CUfunction(), new Pointer(), new Pointer(),
                new Pointer());
    }

    @Test
    void theWrongNumberOfPointersIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new KernelCall(Kernel.BN_NORMALIZE_CHANNELS_LAST, new CUfunction(), new Pointer(), new Pointer()));
        assertEquals("bn_normalize_channels_last takes 3 device pointers, 2 given", e.getMessage());
    }

    @Test
    void aScalarOfTheWrongTypeIsRefused() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> normalize().arg(5).arg(7L));
        assertEquals("bn_normalize_channels_last scalar argument 0 is a long; given a int", e.getMessage());
    }

    @Test
    void tooFewOrTooManyScalarsAreRefused() {
        IllegalStateException few = assertThrows(IllegalStateException.class,
                () -> normalize().arg(5L).arg(7L).launch(1, 1, 1, 1, null));
        assertEquals("bn_normalize_channels_last takes 3 scalar arguments, 2 given", few.getMessage());
        IllegalStateException many = assertThrows(IllegalStateException.class,
                () -> normalize().arg(5L).arg(7L).arg(1).arg(1));
        assertEquals("bn_normalize_channels_last takes 3 scalar arguments; given a int beyond them", many.getMessage());
    }

    @Test
    void aRefusedCallStartsOverWithTheFirstScalar() {
        KernelCall call = normalize();
        assertThrows(IllegalStateException.class, () -> call.arg(5L).arg(1));
        assertThrows(IllegalStateException.class, () -> call.arg(1)); // back at scalar 0, a long
        assertEquals(0, call.launches());
    }
}

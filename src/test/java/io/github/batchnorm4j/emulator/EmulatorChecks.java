package io.github.batchnorm4j.emulator;

import io.github.batchnorm4j.BatchNormProperty;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * In the emulated-GPU test fork (system property {@code batchnorm4j.emulator=true}, set by
 * pom.xml), every test class must find the emulated device, so a GPU test there can never be
 * skipped for a missing GPU; and a test fails when a launch or copy it made showed a defect
 * (memcheck, initcheck, racecheck, synccheck), even where the production code caught the
 * failed call. Registered for that fork only, through JUnit's extension auto-detection.
 */
public final class EmulatorChecks implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback {
    private static final String FAULTS_BEFORE = "faultsBefore";

    static boolean emulatedFork() {
        return BatchNormProperty.EMULATOR.booleanValue();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!emulatedFork()) {
            return;
        }
        CudaAvailability cuda = CudaAvailability.get();
        if (!cuda.available || !EmulatedGpu.active()) {
            throw new IllegalStateException("the emulated GPU did not load in the emulator fork: " + cuda.reason
                    + " (is target/emulator/libcuda.so.1 built and on LD_LIBRARY_PATH?)");
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (emulatedFork()) {
            store(context).put(FAULTS_BEFORE, EmulatedGpu.get().faultCount());
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (!emulatedFork()) {
            return;
        }
        Integer before = store(context).get(FAULTS_BEFORE, Integer.class);
        List<DeviceFault> faults = EmulatedGpu.get().faultsFrom(before == null ? 0 : before);
        if (!faults.isEmpty()) {
            StringBuilder message = new StringBuilder(faults.size() + " defect(s) on the emulated GPU:");
            for (DeviceFault fault : faults) {
                message.append("\n  ").append(fault.getMessage());
            }
            throw new AssertionError(message.toString(), faults.get(0));
        }
    }

    private static ExtensionContext.Store store(ExtensionContext context) {
        return context.getStore(ExtensionContext.Namespace.create(EmulatorChecks.class, context.getUniqueId()));
    }
}

package io.github.batchnorm4j.emulator.programs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.TestData;
import io.github.batchnorm4j.emulator.DeviceModel;
import io.github.batchnorm4j.emulator.EmulatedGpu;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import java.util.List;
import java.util.Map;
import java.util.Random;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * JCuda programs of this project's own, using nothing of batchnorm4j, run on the device as any
 * JCuda user would run them: on the emulated GPU, which must behave as a driver does, and on a
 * real one where the real-gpu fork runs (the emulator-only checks then stand aside).
 */
@Tag(TestData.GPU)
class ProgramsOnTheEmulatorTest {
    @BeforeAll
    static void device() {
        assertTrue(CudaAvailability.get().available, CudaAvailability.get().reason);
    }

    @Test
    void aVectorAdditionOfAMillionElementsIsJavasSum() {
        int n = 1 << 20;
        Random random = new Random(20260101);
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian() * 100;
            b[i] = (float) random.nextGaussian();
        }
        int launchesBefore = EmulatedGpu.active() ? EmulatedGpu.get().launches().size() : 0;
        float[] c = VectorAddProgram.add(a, b);
        int wrong = 0;
        int first = -1;
        for (int i = 0; i < n; i++) {
            // add.f32 rounds to nearest even, as Java's float addition does: the sums are equal
            if (Float.floatToIntBits(c[i]) != Float.floatToIntBits(a[i] + b[i])) {
                wrong++;
                first = first < 0 ? i : first;
            }
        }
        assertEquals(0, wrong, wrong + " of " + n + " sums differ from Java's, the first at " + first
                + (first < 0 ? "" : ": " + a[first] + " + " + b[first] + " gave " + c[first]));
        if (EmulatedGpu.active()) {
            List<EmulatedGpu.LaunchRecord> launches = EmulatedGpu.get().launches();
            assertEquals(launchesBefore + 1, launches.size(), "one launch");
            EmulatedGpu.LaunchRecord launch = launches.get(launches.size() - 1);
            assertEquals("vector_add", launch.kernel());
            assertEquals(n / VectorAddProgram.BLOCK, launch.grid()[0]);
            assertEquals(VectorAddProgram.BLOCK, launch.block()[0]);
        }
    }

    @Test
    void theDeviceQueryReadsEveryAttributeJCudaKnowsAndTheOthersAreErrors() {
        DeviceQueryProgram.Report report = DeviceQueryProgram.query();
        System.out.println("device query: " + report.summary());
        assertEquals(DeviceQueryProgram.attributes().size(), report.values().size() + report.errors().size());
        for (Map.Entry<Integer, Integer> error : report.errors().entrySet()) {
            assertNotEquals(CUresult.CUDA_SUCCESS, (int) error.getValue());
        }
        assertEquals(32, report.values().get(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_WARP_SIZE));
        assertTrue(report.deviceCount() >= 1);
        if (!EmulatedGpu.active()) {
            return;
        }
        // the emulated device answers what its model holds, and a driver's INVALID_VALUE otherwise
        DeviceModel model = EmulatedGpu.get().model();
        assertEquals(1, report.deviceCount());
        assertEquals(model.name, report.name());
        assertEquals(model.totalMemory, report.totalMemory());
        for (int attribute : DeviceQueryProgram.attributes()) {
            long modeled = model.attribute(attribute);
            String name = CUdevice_attribute.stringFor(attribute);
            if (modeled < 0) {
                assertEquals(CUresult.CUDA_ERROR_INVALID_VALUE, report.errors().get(attribute), name);
            } else {
                assertEquals((int) modeled, report.values().get(attribute), name);
            }
        }
        assertEquals(model.multiprocessors, report.values().get(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
        assertEquals(model.major, report.values().get(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR));
    }
}

package io.github.batchnorm4j.emulator.programs;

import static io.github.batchnorm4j.emulator.programs.VectorAddProgram.check;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;

/**
 * A JCuda program of this project's own: the driver version, the device count, and for device 0
 * its name, memory and every CUdevice_attribute JCuda knows, each with its value or the error the
 * driver gave (a device or driver need not know every attribute). Run by
 * ProgramsOnTheEmulatorTest on the emulated GPU; {@link #main} prints the report anywhere.
 */
public final class DeviceQueryProgram {
    private DeviceQueryProgram() {
    }

    /** What the driver answered: the value of each attribute it knows, the error code of each other one. */
    public record Report(int driverVersion, int deviceCount, String name, long totalMemory,
            Map<Integer, Integer> values, Map<Integer, Integer> errors) {
        /** Answered and refused attributes counted, refusals by error: one line. */
        public String summary() {
            Map<String, Integer> refusals = new TreeMap<>();
            errors.values().forEach(error -> refusals.merge(CUresult.stringFor(error), 1, Integer::sum));
            return name + ": " + values.size() + " of " + (values.size() + errors.size())
                    + " CUdevice_attribute values answered; refused: " + refusals;
        }

        /** Everything, an attribute a line. */
        public String text() {
            StringBuilder text = new StringBuilder();
            text.append("driver version ").append(driverVersion).append(", ").append(deviceCount).append(" device(s)\n");
            text.append("device 0: ").append(name).append(", ").append(totalMemory >> 20).append(" MiB\n");
            values.forEach((attribute, value) -> text.append("  ").append(CUdevice_attribute.stringFor(attribute))
                    .append(" = ").append(value).append('\n'));
            text.append("  ").append(values.size()).append(" of ").append(values.size() + errors.size())
                    .append(" attributes answered; the others:\n");
            errors.forEach((attribute, error) -> text.append("  ").append(CUdevice_attribute.stringFor(attribute))
                    .append(": ").append(CUresult.stringFor(error)).append('\n'));
            return text.toString();
        }
    }

    public static void main(String[] args) {
        System.out.print(query().text());
    }

    public static Report query() {
        check(cuInit(0), "cuInit");
        int[] version = new int[1];
        check(cuDriverGetVersion(version), "cuDriverGetVersion");
        int[] count = new int[1];
        check(cuDeviceGetCount(count), "cuDeviceGetCount");
        CUdevice device = new CUdevice();
        check(cuDeviceGet(device, 0), "cuDeviceGet");
        byte[] name = new byte[256];
        check(cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        long[] memory = new long[1];
        check(cuDeviceTotalMem(memory, device), "cuDeviceTotalMem");
        Map<Integer, Integer> values = new TreeMap<>();
        Map<Integer, Integer> errors = new TreeMap<>();
        for (int attribute : attributes()) {
            int[] value = new int[1];
            int result = cuDeviceGetAttribute(value, attribute, device);
            if (result == CUresult.CUDA_SUCCESS) {
                values.put(attribute, value[0]);
            } else {
                errors.put(attribute, result);
            }
        }
        return new Report(version[0], count[0], text(name), memory[0], values, errors);
    }

    /** The values of CUdevice_attribute's constants, once each (some names are aliases of others). */
    public static SortedSet<Integer> attributes() {
        SortedSet<Integer> values = new TreeSet<>();
        for (Field field : CUdevice_attribute.class.getFields()) {
            int modifiers = field.getModifiers();
            if (field.getType() == int.class && Modifier.isStatic(modifiers) && Modifier.isFinal(modifiers)
                    && field.getName().startsWith("CU_DEVICE_ATTRIBUTE_")) {
                try {
                    values.add(field.getInt(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return values;
    }

    private static String text(byte[] bytes) {
        int length = 0;
        while (length < bytes.length && bytes[length] != 0) {
            length++;
        }
        return new String(bytes, 0, length, java.nio.charset.StandardCharsets.US_ASCII);
    }
}

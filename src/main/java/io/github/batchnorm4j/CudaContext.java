package io.github.batchnorm4j;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * Device 0's primary context with batchnorm4j's PTX modules loaded: the one class, with
 * {@link CudaBackend}, that touches JCuda. Opened once per JVM by {@link CudaAvailability}.
 * A CUDA context is current per thread, so every entry point calls {@link #makeCurrent()}.
 */
final class CudaContext {
    private final CUcontext context;
    private final Map<String, CUfunction> kernels;
    private final int multiprocessors;
    private final String description;

    private CudaContext(CUcontext context, Map<String, CUfunction> kernels, int multiprocessors, String description) {
        this.context = context;
        this.kernels = kernels;
        this.multiprocessors = multiprocessors;
        this.description = description;
    }

    /** Loads JCuda, initializes the driver, takes device 0 and loads every module; throws on any failure. */
    static CudaContext open() {
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        int[] count = new int[1];
        cuDeviceGetCount(count);
        if (count[0] == 0) {
            throw new IllegalStateException("CUDA_ERROR_NO_DEVICE: the driver works but sees no CUDA device");
        }
        CUdevice device = new CUdevice();
        cuDeviceGet(device, 0);
        CUcontext context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        Map<String, CUfunction> kernels = new HashMap<>();
        for (CudaModules module : CudaModules.values()) {
            CUmodule loaded = new CUmodule();
            try {
                cuModuleLoadData(loaded, module.ptx());
            } catch (CudaException e) {
                throw new IllegalStateException("loading " + module.resource() + " failed: " + e.getMessage(), e);
            }
            for (String name : module.kernels()) {
                CUfunction function = new CUfunction();
                cuModuleGetFunction(function, loaded, name);
                kernels.put(name, function);
            }
        }
        int[] value = new int[1];
        cuDeviceGetAttribute(value, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        int sms = value[0];
        cuDeviceGetAttribute(value, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        int major = value[0];
        cuDeviceGetAttribute(value, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        int minor = value[0];
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        int[] driver = new int[1];
        cuDriverGetVersion(driver);
        long[] memory = new long[1];
        cuDeviceTotalMem(memory, device);
        String deviceName = new String(name, StandardCharsets.US_ASCII).trim().replace("\0", "");
        String description = deviceName + ", compute capability " + major + "." + minor + ", " + sms
                + " SMs, " + (memory[0] >> 20) + " MiB, driver " + driver[0] / 1000 + "." + (driver[0] % 1000) / 10;
        return new CudaContext(context, kernels, sms, description);
    }

    void makeCurrent() {
        cuCtxSetCurrent(context);
    }

    CUfunction kernel(String name) {
        CUfunction function = kernels.get(name);
        if (function == null) {
            throw new IllegalStateException("kernel " + name + " is not in the loaded PTX");
        }
        return function;
    }

    int multiprocessors() {
        return multiprocessors;
    }

    String description() {
        return description;
    }
}

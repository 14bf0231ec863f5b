package io.github.batchnorm4j.internal.cuda;

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
import java.util.EnumMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;

/**
 * Device 0's primary context with batchnorm4j's PTX modules loaded: the one class, with
 * {@link CudaBackend}, that touches JCuda. Opened once per JVM by {@link CudaAvailability}.
 * A CUDA context is current per thread, so every entry point calls {@link #makeCurrent()}.
 */
public final class CudaContext {
    private final CUcontext context;
    private final Map<Kernel, CUfunction> kernels;
    private final int multiprocessors;
    private final String description;

    private CudaContext(CUcontext context, Map<Kernel, CUfunction> kernels, int multiprocessors, String description) {
        this.context = context;
        this.kernels = kernels;
        this.multiprocessors = multiprocessors;
        this.description = description;
    }

    /** Loads JCuda, initializes the driver, takes device 0 and loads every module; throws on any failure. */
    static CudaContext open() {
        CudaCalls.check(cuInit(0), "cuInit");
        int[] count = new int[1];
        CudaCalls.check(cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) {
            throw new IllegalStateException("CUDA_ERROR_NO_DEVICE: the driver works but sees no CUDA device");
        }
        CUdevice device = new CUdevice();
        CudaCalls.check(cuDeviceGet(device, 0), "cuDeviceGet");
        CUcontext context = new CUcontext();
        CudaCalls.check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        CudaCalls.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
        Map<Kernel, CUfunction> kernels = new EnumMap<>(Kernel.class);
        for (CudaModules module : CudaModules.values()) {
            CUmodule loaded = new CUmodule();
            int result;
            try {
                result = cuModuleLoadData(loaded, module.ptx());
            } catch (CudaException e) { // the application turned on JCuda's exceptions
                throw new IllegalStateException("loading " + module.resource() + " failed: " + e.getMessage(), e);
            }
            if (result != CUresult.CUDA_SUCCESS) {
                throw new IllegalStateException("loading " + module.resource() + " failed: "
                        + CUresult.stringFor(result));
            }
            for (Kernel kernel : module.kernels()) {
                CUfunction function = new CUfunction();
                CudaCalls.check(cuModuleGetFunction(function, loaded, kernel.symbol()), "cuModuleGetFunction",
                        kernel.symbol());
                kernels.put(kernel, function);
            }
        }
        int sms = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        int major = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        int minor = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        byte[] name = new byte[256];
        CudaCalls.check(cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int[] driver = new int[1];
        CudaCalls.check(cuDriverGetVersion(driver), "cuDriverGetVersion");
        long[] memory = new long[1];
        CudaCalls.check(cuDeviceTotalMem(memory, device), "cuDeviceTotalMem");
        String deviceName = new String(name, StandardCharsets.US_ASCII).trim().replace("\0", "");
        String description = deviceName + ", compute capability " + major + "." + minor + ", " + sms
                + " SMs, " + (memory[0] >> 20) + " MiB, driver " + driver[0] / 1000 + "." + (driver[0] % 1000) / 10;
        return new CudaContext(context, kernels, sms, description);
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] value = new int[1];
        CudaCalls.check(cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute",
                CUdevice_attribute.stringFor(attribute));
        return value[0];
    }

    public void makeCurrent() {
        CudaCalls.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    CUfunction kernel(Kernel kernel) {
        CUfunction function = kernels.get(kernel);
        if (function == null) {
            throw new IllegalStateException("kernel " + kernel.symbol() + " is not in the loaded PTX");
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

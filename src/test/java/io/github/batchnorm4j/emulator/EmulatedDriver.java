package io.github.batchnorm4j.emulator;


/**
 * The Java half of the stub driver (src/test/native/libcuda_stub.c): one static method per
 * driver call, called over JNI from the stub that JCuda binds to as libcuda.so.1. Each returns
 * its result (an address, a handle, a value) or minus a CUresult error code, and answers as the
 * real driver documents, so the production host code above it runs unchanged.
 */
public final class EmulatedDriver {
    static final long SUCCESS = 0;
    static final long INVALID_VALUE = -1;
    static final long OUT_OF_MEMORY = -2;
    static final long NOT_INITIALIZED = -3;
    static final long INVALID_DEVICE = -101;
    static final long INVALID_IMAGE = -200;
    static final long INVALID_CONTEXT = -201;
    static final long INVALID_HANDLE = -400;
    static final long NOT_FOUND = -500;
    static final long ILLEGAL_ADDRESS = -700;
    static final long MISALIGNED_ADDRESS = -716;
    static final long LAUNCH_FAILED = -719;

    /** The one context handle: device 0's primary context. */
    private static final long PRIMARY_CONTEXT = 0xC0;

    private EmulatedDriver() {
    }

    private static EmulatedGpu gpu() {
        return EmulatedGpu.get();
    }

    private static boolean ready() {
        return gpu().initialized();
    }

    // ---- initialization and devices ----

    static long init(long flags) {
        if (flags != 0) {
            return INVALID_VALUE;
        }
        gpu().initialize();
        return SUCCESS;
    }

    static long driverVersion(long unused) {
        return 12060;
    }

    static long deviceCount(long unused) {
        return ready() ? 1 : NOT_INITIALIZED;
    }

    static long device(long ordinal) {
        if (!ready()) {
            return NOT_INITIALIZED;
        }
        return ordinal == 0 ? 0 : INVALID_DEVICE;
    }

    static long deviceAttribute(long attribute, long device) {
        if (device != 0) {
            return INVALID_DEVICE;
        }
        long value = gpu().model().attribute((int) attribute);
        return value < 0 ? INVALID_VALUE : value;
    }

    static long deviceTotalMemory(long device) {
        return device == 0 ? gpu().model().totalMemory : INVALID_DEVICE;
    }

    static String deviceName(long device) {
        return gpu().model().name;
    }

    // ---- contexts ----

    static long primaryContextRetain(long device) {
        if (!ready()) {
            return NOT_INITIALIZED;
        }
        return device == 0 ? PRIMARY_CONTEXT : INVALID_DEVICE;
    }

    static long primaryContextRelease(long device) {
        return device == 0 ? SUCCESS : INVALID_DEVICE;
    }

    static long contextSetCurrent(long context) {
        return context == PRIMARY_CONTEXT || context == 0 ? SUCCESS : INVALID_CONTEXT;
    }

    static long contextGetCurrent(long unused) {
        return PRIMARY_CONTEXT;
    }

    static long contextSynchronize(long unused) {
        gpu().countSynchronization();
        return SUCCESS;
    }

    // ---- modules ----

    static long moduleLoad(long image, long length) {
        try {
            return gpu().loadModule(HostMemory.bytes(image, length));
        } catch (DeviceFault fault) {
            gpu().record(fault);
            return INVALID_IMAGE;
        }
    }

    static long moduleUnload(long module) {
        return gpu().unloadModule(module) ? SUCCESS : INVALID_HANDLE;
    }

    static long moduleGetFunction(long module, String name) {
        long function = gpu().function(module, name);
        return function < 0 ? INVALID_HANDLE : function == 0 ? NOT_FOUND : function;
    }

    // ---- memory ----

    // Every use of the memory holds the device's lock: layers on several threads allocate at once.

    static long memAlloc(long bytes) {
        if (bytes == 0) {
            return INVALID_VALUE;
        }
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long address = gpu.memory().allocate(bytes);
            gpu.countAllocation();
            return address == 0 ? OUT_OF_MEMORY : address;
        }
    }

    static long memFree(long address) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            return address == 0 || gpu.memory().free(address) ? SUCCESS : INVALID_VALUE;
        }
    }

    static long memFreeBytes(long unused) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            return gpu.model().totalMemory - gpu.memory().liveBytes();
        }
    }

    static long allocationBase(long address) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            DeviceAllocation allocation = gpu.memory().live(address);
            return allocation == null ? NOT_FOUND : allocation.base;
        }
    }

    static long allocationSize(long address) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            DeviceAllocation allocation = gpu.memory().live(address);
            return allocation == null ? NOT_FOUND : allocation.size;
        }
    }

    // Copies and memsets: no lambda, no buffer object, so steady-state calls allocate nothing.

    static long memset8(long target, long value, long bytes, long stream) {
        return transfer(Transfer.MEMSET, target, value, bytes);
    }

    static long copyHostToDevice(long target, long host, long bytes, long stream) {
        return transfer(Transfer.HOST_TO_DEVICE, target, host, bytes);
    }

    static long copyDeviceToHost(long host, long source, long bytes, long stream) {
        return transfer(Transfer.DEVICE_TO_HOST, host, source, bytes);
    }

    static long copyDeviceToDevice(long target, long source, long bytes, long stream) {
        return transfer(Transfer.DEVICE_TO_DEVICE, target, source, bytes);
    }

    /** One copy or memset (for a memset, {@code source} is the byte value), counted with its bytes. */
    private static long transfer(Transfer kind, long target, long source, long bytes) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            gpu.count(kind, bytes);
            try {
                switch (kind) {
                    case MEMSET -> gpu.memory().memset(target, (byte) source, bytes);
                    case HOST_TO_DEVICE -> gpu.memory().copyIn(target, source, bytes);
                    case DEVICE_TO_HOST -> gpu.memory().copyOut(target, source, bytes);
                    case DEVICE_TO_DEVICE -> gpu.memory().copy(target, source, bytes);
                }
                return SUCCESS;
            } catch (DeviceFault fault) {
                return refused(gpu, fault);
            }
        }
    }

    /** A copy or memset outside live allocations: the driver refuses it, and the emulator records it. */
    private static long refused(EmulatedGpu gpu, DeviceFault fault) {
        gpu.record(fault);
        return INVALID_VALUE;
    }

    // ---- launches ----

    /** {total .param bytes, offset and size of each parameter}, or null for an unknown function. */
    static long[] parameterLayout(long function) {
        PtxKernel kernel = gpu().kernel(function);
        if (kernel == null) {
            return null;
        }
        long[] layout = new long[1 + 2 * kernel.parameters().size()];
        layout[0] = kernel.parameterBytes();
        for (int i = 0; i < kernel.parameters().size(); i++) {
            layout[1 + 2 * i] = kernel.parameters().get(i).offset();
            layout[2 + 2 * i] = kernel.parameters().get(i).size();
        }
        return layout;
    }

    static long launch(long function, long gridX, long gridY, long gridZ, long blockX, long blockY, long blockZ,
            long sharedBytes, long stream, byte[] parameters, long parameterBytes) {
        PtxKernel kernel = gpu().kernel(function);
        if (kernel == null) {
            return INVALID_HANDLE;
        }
        DeviceModel model = gpu().model();
        long threads = blockX * blockY * blockZ;
        if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockY < 1 || blockZ < 1
                || threads > model.attribute(1) || blockX > model.attribute(2) || blockY > model.attribute(3)
                || blockZ > model.attribute(4) || gridX > model.attribute(5) || gridY > model.attribute(6)
                || gridZ > model.attribute(7) || sharedBytes + kernel.staticSharedBytes() > model.attribute(8)) {
            return INVALID_VALUE;
        }
        return gpu().device().launch(kernel, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, parameters,
                (int) parameterBytes);
    }

    // ---- streams and events ----

    static long streamCreate(long flags) {
        return gpu().newHandle();
    }

    static long streamDestroy(long stream) {
        return SUCCESS;
    }

    static long streamSynchronize(long stream) {
        gpu().countSynchronization();
        return SUCCESS;
    }

    /** Work runs when it is launched, so a stream has always finished (not a synchronization). */
    static long streamQuery(long stream) {
        return SUCCESS;
    }

    static long eventCreate(long flags) {
        return gpu().createEvent();
    }

    static long eventDestroy(long event) {
        return gpu().destroyEvent(event) ? SUCCESS : INVALID_HANDLE;
    }

    static long eventRecord(long event, long stream) {
        return gpu().recordEvent(event) ? SUCCESS : INVALID_HANDLE;
    }

    static long eventSynchronize(long event) {
        gpu().countSynchronization();
        return gpu().hasEvent(event) ? SUCCESS : INVALID_HANDLE;
    }

    static long eventElapsedNanos(long start, long end) {
        Long nanos = gpu().elapsed(start, end);
        return nanos == null ? INVALID_HANDLE : nanos;
    }
}

package io.github.batchnorm4j.emulator;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;

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
    static final long ILLEGAL_STATE = -401;
    static final long NOT_FOUND = -500;
    static final long ILLEGAL_ADDRESS = -700;
    static final long MISALIGNED_ADDRESS = -716;
    static final long LAUNCH_FAILED = -719;
    static final long STREAM_CAPTURE_UNSUPPORTED = -900;
    static final long STREAM_CAPTURE_INVALIDATED = -901;
    static final long STREAM_CAPTURE_MERGE = -902;
    static final long STREAM_CAPTURE_UNMATCHED = -903;
    static final long STREAM_CAPTURE_IMPLICIT = -906;
    static final long CAPTURED_EVENT = -907;

    /** CU_MEMHOSTALLOC_PORTABLE | DEVICEMAP | WRITECOMBINED: the flags cuMemHostAlloc accepts. */
    private static final long HOST_ALLOC_FLAGS = 0x7;
    /** CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH | UPLOAD | DEVICE_LAUNCH | USE_NODE_PRIORITY. */
    private static final long GRAPH_INSTANTIATE_FLAGS = 0xF;

    /** The one context handle: device 0's primary context. */
    private static final long PRIMARY_CONTEXT = 0xC0;
    /** cuCtxCreate's flags cuda.h defines (CU_CTX_FLAGS_MASK). */
    private static final long CONTEXT_FLAGS = 0xFF;

    /**
     * Each thread's context stack (cuCtxPushCurrent, cuCtxPopCurrent, cuCtxCreate): only the
     * primary context is ever on it. The primary context stays current on every thread whatever
     * the stack holds (cuCtxGetCurrent), as batchnorm4j and the tests expect.
     */
    private static final ThreadLocal<ArrayDeque<Long>> CONTEXT_STACK = ThreadLocal.withInitial(ArrayDeque::new);

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

    /**
     * cuCtxCreate: the one device has the one context, so a created context is the primary
     * context, pushed on the calling thread's stack as a created context would be.
     */
    static long contextCreate(long flags, long device) {
        if (!ready()) {
            return NOT_INITIALIZED;
        }
        if ((flags & ~CONTEXT_FLAGS) != 0) {
            return INVALID_VALUE;
        }
        if (device != 0) {
            return INVALID_DEVICE;
        }
        CONTEXT_STACK.get().push(PRIMARY_CONTEXT);
        return PRIMARY_CONTEXT;
    }

    /**
     * cuCtxDestroy: pops the context where the calling thread has it on top, and does nothing
     * else. The emulated forks share the one context across all tests, so destroying it resets
     * nothing: memory, modules and streams stay as they are.
     */
    static long contextDestroy(long context) {
        if (context == 0) {
            return INVALID_VALUE;
        }
        if (context != PRIMARY_CONTEXT) {
            return INVALID_CONTEXT;
        }
        CONTEXT_STACK.get().poll();
        return SUCCESS;
    }

    static long contextPush(long context) {
        if (context != PRIMARY_CONTEXT) {
            return INVALID_CONTEXT;
        }
        CONTEXT_STACK.get().push(PRIMARY_CONTEXT);
        return SUCCESS;
    }

    /** cuCtxPopCurrent: the context on top of the calling thread's stack, INVALID_CONTEXT on an empty one. */
    static long contextPop(long unused) {
        Long top = CONTEXT_STACK.get().poll();
        return top == null ? INVALID_CONTEXT : top;
    }

    static long contextDevice(long unused) {
        return ready() ? 0 : NOT_INITIALIZED;
    }

    static long contextSynchronize(long unused) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long refused = gpu.streams().synchronizeContext();
            if (refused < 0) {
                return refused;
            }
            gpu.countSynchronization();
            return SUCCESS;
        }
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
    // Allocation and freeing are potentially unsafe during a stream capture (they may synchronize).

    static long memAlloc(long bytes) {
        if (bytes == 0) {
            return INVALID_VALUE;
        }
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long refused = gpu.streams().unsafeCall();
            if (refused < 0) {
                return refused;
            }
            long address = gpu.memory().allocate(bytes);
            gpu.countAllocation();
            return address == 0 ? OUT_OF_MEMORY : address;
        }
    }

    static long memFree(long address) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long refused = gpu.streams().unsafeCall();
            if (refused < 0) {
                return refused;
            }
            return address == 0 || gpu.memory().free(address) ? SUCCESS : INVALID_VALUE;
        }
    }

    // ---- pinned host memory ----

    /**
     * Registers pinned memory the stub allocated at {@code host}: as under UVA, every pinned
     * allocation is mapped, through a device allocation of the same size ({@link PinnedHostMemory}).
     */
    static long hostAllocate(long host, long bytes, long flags) {
        if (bytes <= 0 || (flags & ~HOST_ALLOC_FLAGS) != 0) {
            return INVALID_VALUE;
        }
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long refused = gpu.streams().unsafeCall();
            if (refused < 0) {
                return refused;
            }
            DeviceAllocation mirror = gpu.memory().allocateMapped(bytes);
            if (mirror == null) {
                return OUT_OF_MEMORY;
            }
            gpu.pinned().add(host, (int) flags, mirror);
            gpu.countHostAllocation();
            return SUCCESS;
        }
    }

    /** SUCCESS when {@code host} starts a pinned allocation (the stub then frees it), else INVALID_VALUE. */
    static long hostFree(long host) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long refused = gpu.streams().unsafeCall();
            if (refused < 0) {
                return refused;
            }
            DeviceAllocation mirror = gpu.pinned().remove(host);
            if (mirror == null) {
                return INVALID_VALUE;
            }
            gpu.memory().freeMapped(mirror);
            return SUCCESS;
        }
    }

    /** The device address a pointer into pinned memory maps to, at the same offset. */
    static long hostDevicePointer(long host, long flags) {
        if (flags != 0) {
            return INVALID_VALUE;
        }
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long device = gpu.pinned().devicePointer(host);
            return device < 0 ? INVALID_VALUE : device;
        }
    }

    /** The flags the pinned allocation holding {@code host} was made with (cuMemAllocHost: 0). */
    static long hostFlags(long host) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            int flags = gpu.pinned().flags(host);
            return flags < 0 ? INVALID_VALUE : flags;
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
    // synchronous is 1 for the calls without a stream (cuMemcpyHtoD_v2 and the like), 0 for *Async.

    static long memset8(long target, long value, long bytes, long stream, long synchronous) {
        return transfer(Transfer.MEMSET, target, value, bytes, stream, synchronous != 0);
    }

    static long copyHostToDevice(long target, long host, long bytes, long stream, long synchronous) {
        return transfer(Transfer.HOST_TO_DEVICE, target, host, bytes, stream, synchronous != 0);
    }

    static long copyDeviceToHost(long host, long source, long bytes, long stream, long synchronous) {
        return transfer(Transfer.DEVICE_TO_HOST, host, source, bytes, stream, synchronous != 0);
    }

    static long copyDeviceToDevice(long target, long source, long bytes, long stream, long synchronous) {
        return transfer(Transfer.DEVICE_TO_DEVICE, target, source, bytes, stream, synchronous != 0);
    }

    /**
     * One copy or memset (for a memset, {@code source} is the byte value): run now and counted, or
     * recorded by the stream's capture. A synchronous call is ordered on the legacy stream.
     */
    private static long transfer(Transfer kind, long target, long source, long bytes, long stream,
            boolean synchronous) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long admitted = synchronous ? gpu.streams().synchronousCall() : gpu.streams().admit(stream);
            if (admitted < 0) {
                return admitted;
            }
            if (admitted == Streams.CAPTURED) {
                gpu.streams().record(stream, new GraphNode.Copy(kind, target, source, bytes));
                return SUCCESS;
            }
            if (!synchronous || kind == Transfer.MEMSET) {
                gpu.countStreamOperation(stream);
            }
            return run(gpu, kind, target, source, bytes, synchronous);
        }
    }

    /**
     * Runs a copy or memset, counted with its bytes, with pinned memory's device mirrors exact
     * around it; the caller holds the device's lock.
     */
    private static long run(EmulatedGpu gpu, Transfer kind, long target, long source, long bytes,
            boolean synchronous) {
        gpu.count(kind, target, source, bytes, synchronous);
        PinnedHostMemory pinned = gpu.pinned();
        pinned.toDevice();
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
        } finally {
            // A copy to the host wrote host memory directly, pinned or not: the mirrors hold nothing newer.
            if (kind != Transfer.DEVICE_TO_HOST) {
                pinned.toHost();
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

    /** A launch runs now, or its stream's capture records it with a copy of its parameter bytes. */
    static long launch(long function, long gridX, long gridY, long gridZ, long blockX, long blockY, long blockZ,
            long sharedBytes, long stream, byte[] parameters, long parameterBytes) {
        EmulatedGpu gpu = gpu();
        PtxKernel kernel = gpu.kernel(function);
        if (kernel == null) {
            return INVALID_HANDLE;
        }
        DeviceModel model = gpu.model();
        long threads = blockX * blockY * blockZ;
        if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockY < 1 || blockZ < 1
                || threads > model.attribute(1) || blockX > model.attribute(2) || blockY > model.attribute(3)
                || blockZ > model.attribute(4) || gridX > model.attribute(5) || gridY > model.attribute(6)
                || gridZ > model.attribute(7) || sharedBytes + kernel.staticSharedBytes() > model.attribute(8)) {
            return INVALID_VALUE;
        }
        synchronized (gpu) {
            long admitted = gpu.streams().admit(stream);
            if (admitted < 0) {
                return admitted;
            }
            if (admitted == Streams.CAPTURED) {
                gpu.streams().record(stream, new GraphNode.Kernel(kernel, gridX, gridY, gridZ, blockX, blockY, blockZ,
                        sharedBytes, Arrays.copyOf(parameters, (int) parameterBytes)));
                return SUCCESS;
            }
            gpu.countStreamOperation(stream);
            if (gpu.skipLaunch()) {
                return SUCCESS;
            }
        }
        // Not under the device's lock: the device thread takes it to run the launch.
        return gpu.device().launch(kernel, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, parameters,
                (int) parameterBytes);
    }

    // ---- streams and events ----

    static long streamCreate(long flags) {
        if ((flags & ~Stream.NON_BLOCKING) != 0) {
            return INVALID_VALUE;
        }
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long handle = gpu.newHandle();
            gpu.streams().create(handle, (int) flags);
            return handle;
        }
    }

    static long streamDestroy(long stream) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            return gpu.streams().destroy(stream);
        }
    }

    static long streamFlags(long stream) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            Stream found = gpu.streams().find(stream);
            return found == null ? INVALID_HANDLE : found.flags;
        }
    }

    static long streamSynchronize(long stream) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long refused = gpu.streams().synchronizeStream(stream);
            if (refused < 0) {
                return refused;
            }
            gpu.countSynchronization();
            return SUCCESS;
        }
    }

    /** Work runs when it is launched, so a stream has always finished (not a synchronization). */
    static long streamQuery(long stream) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long refused = gpu.streams().synchronizeStream(stream);
            return refused < 0 ? refused : SUCCESS;
        }
    }

    /** The wait is met at once (work ran when issued); {@code flags}: CU_EVENT_WAIT_DEFAULT or _EXTERNAL. */
    static long streamWaitEvent(long stream, long event, long flags) {
        if (flags != 0 && flags != 1) {
            return INVALID_VALUE;
        }
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long refused = gpu.streams().waitEvent(stream, gpu.event(event));
            if (refused < 0) {
                return refused;
            }
            gpu.countStreamWait();
            return SUCCESS;
        }
    }

    static long eventCreate(long flags) {
        return gpu().createEvent();
    }

    static long eventDestroy(long event) {
        return gpu().destroyEvent(event) ? SUCCESS : INVALID_HANDLE;
    }

    static long eventRecord(long event, long stream) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            Event found = gpu.event(event);
            if (found == null) {
                return INVALID_HANDLE;
            }
            long admitted = gpu.streams().admit(stream);
            if (admitted < 0) {
                return admitted;
            }
            if (admitted == Streams.CAPTURED) {
                found.capture = gpu.streams().record(stream, new GraphNode.EventRecord(event));
            } else {
                gpu.recordEvent(found);
            }
            return SUCCESS;
        }
    }

    static long eventSynchronize(long event) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long refused = Streams.synchronizeEvent(gpu.event(event));
            if (refused < 0) {
                return refused;
            }
            gpu.countSynchronization();
            return SUCCESS;
        }
    }

    /** Work runs when it is launched, so a recorded event has always completed (not a synchronization). */
    static long eventQuery(long event) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long refused = Streams.synchronizeEvent(gpu.event(event));
            return refused < 0 ? refused : SUCCESS;
        }
    }

    static long eventElapsedNanos(long start, long end) {
        long nanos = gpu().elapsed(start, end);
        return nanos < 0 ? INVALID_HANDLE : nanos;
    }

    // ---- stream capture and graphs ----

    static long streamBeginCapture(long stream, long mode) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            return gpu.streams().beginCapture(stream, mode);
        }
    }

    /** The graph the capture begun on {@code stream} recorded, or an error (an invalidated capture gives none). */
    static long streamEndCapture(long stream) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            Stream found = gpu.streams().find(stream);
            if (found == null) {
                return INVALID_HANDLE;
            }
            StreamCapture capture = found.capture;
            if (capture == null) {
                return ILLEGAL_STATE;
            }
            if (capture.origin != found) {
                return STREAM_CAPTURE_UNMATCHED;
            }
            gpu.streams().end(capture);
            return capture.invalidated ? STREAM_CAPTURE_INVALIDATED : gpu.graphs().addGraph(gpu.newHandle(),
                    capture.nodes);
        }
    }

    /** CU_STREAM_CAPTURE_STATUS_NONE, _ACTIVE or _INVALIDATED. */
    static long streamIsCapturing(long stream) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            return gpu.streams().captureStatus(stream);
        }
    }

    static long graphInstantiate(long graph, long flags) {
        if ((flags & ~GRAPH_INSTANTIATE_FLAGS) != 0) {
            return INVALID_VALUE;
        }
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            long handle = gpu.newHandle();
            return gpu.graphs().instantiate(handle, graph) ? handle : INVALID_VALUE;
        }
    }

    static long graphDestroy(long graph) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            return gpu.graphs().destroyGraph(graph) ? SUCCESS : INVALID_VALUE;
        }
    }

    static long graphExecDestroy(long executable) {
        EmulatedGpu gpu = gpu();
        synchronized (gpu) {
            return gpu.graphs().destroyExecutable(executable) ? SUCCESS : INVALID_VALUE;
        }
    }

    /**
     * Runs an instantiated graph on {@code stream}: its operations in captured order, each counted
     * and recorded as if it were launched now on that stream (the cost model sees them as any
     * others). Launched into a capturing stream, the graph's operations join that capture.
     */
    static long graphLaunch(long executable, long stream) {
        EmulatedGpu gpu = gpu();
        List<GraphNode> nodes;
        synchronized (gpu) {
            nodes = gpu.graphs().executable(executable);
            if (nodes == null) {
                return INVALID_HANDLE;
            }
            long admitted = gpu.streams().admit(stream);
            if (admitted < 0) {
                return admitted;
            }
            if (admitted == Streams.CAPTURED) {
                for (int i = 0; i < nodes.size(); i++) {
                    gpu.streams().record(stream, nodes.get(i));
                }
                return SUCCESS;
            }
            gpu.countGraphLaunch();
        }
        for (int i = 0; i < nodes.size(); i++) {
            long result = replay(gpu, nodes.get(i), stream);
            if (result < 0) {
                return result; // launches are synchronous: the error is the graph launch's, as a sticky error would be
            }
        }
        return SUCCESS;
    }

    private static long replay(EmulatedGpu gpu, GraphNode node, long stream) {
        if (node instanceof GraphNode.Kernel k) {
            gpu.countStreamOperation(stream);
            if (gpu.skipLaunch()) {
                return SUCCESS;
            }
            return gpu.device().launch(k.kernel(), k.gridX(), k.gridY(), k.gridZ(), k.blockX(), k.blockY(), k.blockZ(),
                    k.sharedBytes(), k.parameters(), k.parameters().length);
        }
        synchronized (gpu) {
            if (node instanceof GraphNode.Copy c) {
                gpu.countStreamOperation(stream);
                return run(gpu, c.kind(), c.target(), c.source(), c.bytes(), false);
            }
            Event event = gpu.event(((GraphNode.EventRecord) node).event());
            if (event != null) {
                gpu.recordEvent(event);
            }
            return SUCCESS;
        }
    }
}

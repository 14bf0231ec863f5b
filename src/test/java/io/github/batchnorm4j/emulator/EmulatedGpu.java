package io.github.batchnorm4j.emulator;

import io.github.batchnorm4j.BatchNormProperty;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The one emulated device of a JVM, behind the driver calls of {@link EmulatedDriver}: its
 * memory (with pinned host memory mapped into it), the modules and functions loaded into it,
 * streams, captures, graphs and events, and the launches, each run to completion by the
 * {@link Interpreter} when it is made (a stream's work is in order, so running it at once is one
 * order the hardware could have chosen). A defect a launch shows is
 * recorded here, printed, and fails the launch; {@link EmulatorChecks} fails the test that made it.
 */
public final class EmulatedGpu {
    private static EmulatedGpu instance;

    private final DeviceModel model = DeviceModel.configured();
    private final DeviceMemory memory = new DeviceMemory();
    private final PinnedHostMemory pinned = new PinnedHostMemory();
    private final Streams streams = new Streams();
    private final Graphs graphs = new Graphs();
    private final Schedule schedule = scheduleFromProperty();
    private final Map<Long, PtxModule> modules = new HashMap<>();
    /** Function handles are FUNCTION_BASE + 16 * index, so a launch finds its kernel without boxing. */
    private final List<PtxKernel> functions = new ArrayList<>();
    private static final long FUNCTION_BASE = 0x100000;
    private final HandleTable<Event> events = new HandleTable<>();
    private final List<DeviceFault> faults = new ArrayList<>();
    private final List<LaunchRecord> launches = new ArrayList<>();
    private long nextHandle = 0x1000;
    private long modeledNanos;
    private boolean initialized;
    private final DeviceThread device = new DeviceThread(this);

    /** A launch as the cost model sees it: its kernel, geometry, interpreter statistics and DRAM sectors. */
    public record LaunchRecord(String kernel, int[] grid, int[] block, LaunchStatistics statistics,
            long dramSectors) {
    }

    /**
     * Driver calls of one kind or another, counted since the device started, with the bytes of
     * copies between host and device; a call's share is a difference ({@link #minus}).
     * Launches, copies and memsets count when they run: a graph's operations count each time it
     * is launched, not when they are captured.
     *
     * @param hostToDevice copies of either API (synchronous or async); likewise the other directions
     * @param allocations cuMemAlloc calls; pinned host allocations are {@code hostAllocations}
     * @param legacyStreamOperations launches, async copies and memsets (of either API) run on the
     *     legacy default stream (handle 0 or CU_STREAM_LEGACY, and the synchronous memset), which
     *     synchronizes with every blocking stream; CU_STREAM_PER_THREAD is an ordinary stream here
     * @param synchronousCopies copies made with the synchronous API (cuMemcpyHtoD and the like),
     *     which block the host and are ordered on the legacy stream
     * @param pageableAsyncCopies async copies between host and device whose host side is not all
     *     inside one pinned allocation: on a real GPU such a copy is staged, not asynchronous
     * @param hostAllocations pinned host allocations made (cuMemAllocHost, cuMemHostAlloc)
     * @param graphLaunches cuGraphLaunch calls that ran a graph
     */
    public record Counters(long launches, long synchronizations, long hostToDevice, long deviceToHost,
            long deviceToDevice, long memsets, long allocations, long hostToDeviceBytes, long deviceToHostBytes,
            long legacyStreamOperations, long synchronousCopies, long pageableAsyncCopies, long hostAllocations,
            long graphLaunches) {
        public Counters minus(Counters before) {
            return new Counters(launches - before.launches, synchronizations - before.synchronizations,
                    hostToDevice - before.hostToDevice, deviceToHost - before.deviceToHost,
                    deviceToDevice - before.deviceToDevice, memsets - before.memsets,
                    allocations - before.allocations, hostToDeviceBytes - before.hostToDeviceBytes,
                    deviceToHostBytes - before.deviceToHostBytes,
                    legacyStreamOperations - before.legacyStreamOperations,
                    synchronousCopies - before.synchronousCopies, pageableAsyncCopies - before.pageableAsyncCopies,
                    hostAllocations - before.hostAllocations, graphLaunches - before.graphLaunches);
        }
    }

    private long synchronizations;
    private final long[] transfers = new long[Transfer.values().length];
    private final long[] transferBytes = new long[Transfer.values().length];
    private long allocations;
    private long legacyStreamOperations;
    /** cuStreamWaitEvent calls that succeeded: the cross-stream orderings the host asked for. */
    private long streamWaits;
    private long synchronousCopies;
    private long pageableAsyncCopies;
    private long hostAllocations;
    private long graphLaunches;
    private boolean executing = true;
    private long skippedLaunches;

    /** The device of this JVM (created on the first driver call). */
    public static synchronized EmulatedGpu get() {
        if (instance == null) {
            instance = new EmulatedGpu();
        }
        return instance;
    }

    /** Whether the driver stub reached this JVM's emulator, so tests know they run emulated. */
    public static synchronized boolean active() {
        return instance != null && instance.initialized;
    }

    private static Schedule scheduleFromProperty() {
        Long seed = BatchNormProperty.EMULATOR_SEED.longValue();
        return seed == null ? Schedule.DETERMINISTIC : new Schedule(seed);
    }

    public DeviceModel model() {
        return model;
    }

    DeviceMemory memory() {
        return memory;
    }

    DeviceThread device() {
        return device;
    }

    PinnedHostMemory pinned() {
        return pinned;
    }

    Streams streams() {
        return streams;
    }

    Graphs graphs() {
        return graphs;
    }

    synchronized void initialize() {
        initialized = true;
    }

    synchronized boolean initialized() {
        return initialized;
    }

    public synchronized Counters counters() {
        return new Counters(launches.size() + skippedLaunches, synchronizations, transfers[Transfer.HOST_TO_DEVICE.ordinal()],
                transfers[Transfer.DEVICE_TO_HOST.ordinal()], transfers[Transfer.DEVICE_TO_DEVICE.ordinal()],
                transfers[Transfer.MEMSET.ordinal()], allocations, transferBytes[Transfer.HOST_TO_DEVICE.ordinal()],
                transferBytes[Transfer.DEVICE_TO_HOST.ordinal()], legacyStreamOperations, synchronousCopies,
                pageableAsyncCopies, hostAllocations, graphLaunches);
    }

    synchronized void countSynchronization() {
        synchronizations++;
    }

    /**
     * One copy or memset as it runs ({@code source} is the byte value of a memset): a copy of the
     * synchronous API, or an async one whose host side is pageable, is counted as such too.
     */
    synchronized void count(Transfer kind, long target, long source, long bytes, boolean synchronous) {
        transfers[kind.ordinal()]++;
        transferBytes[kind.ordinal()] += bytes;
        if (kind == Transfer.MEMSET) {
            return;
        }
        if (synchronous) {
            synchronousCopies++;
        } else if (kind != Transfer.DEVICE_TO_DEVICE
                && !pinned.covers(kind == Transfer.HOST_TO_DEVICE ? source : target, bytes)) {
            pageableAsyncCopies++;
        }
    }

    synchronized void countAllocation() {
        allocations++;
    }

    synchronized void countHostAllocation() {
        hostAllocations++;
    }

    /** A launch, copy or memset about to run on {@code stream}: counted when that is the legacy stream. */
    synchronized void countStreamWait() {
        streamWaits++;
    }

    /** How many cuStreamWaitEvent calls have succeeded (cross-stream orderings). */
    public synchronized long streamWaits() {
        return streamWaits;
    }

    synchronized void countStreamOperation(long stream) {
        if (Streams.isLegacy(stream)) {
            legacyStreamOperations++;
        }
    }

    /**
     * Off: launches are counted and their arguments checked as before, but no kernel runs (a
     * counting driver), so a benchmark of the host code times the host code alone. Memory then
     * holds whatever it held; the cost model sees no launch records.
     */
    public synchronized void executeKernels(boolean execute) {
        executing = execute;
    }

    /** With {@link #executeKernels} off: counts the launch and returns true (it is not to run). */
    synchronized boolean skipLaunch() {
        if (executing) {
            return false;
        }
        skippedLaunches++;
        return true;
    }

    synchronized void countGraphLaunch() {
        graphLaunches++;
    }

    synchronized long newHandle() {
        return nextHandle += 0x10;
    }

    // ---- modules ----

    synchronized long loadModule(byte[] text) {
        PtxModule module = PtxModule.parse(new String(text, StandardCharsets.US_ASCII));
        long handle = newHandle();
        modules.put(handle, module);
        return handle;
    }

    synchronized boolean unloadModule(long handle) {
        return modules.remove(handle) != null;
    }

    /** The function's handle, 0 when the module has no such entry, -1 when the module handle is unknown. */
    synchronized long function(long module, String name) {
        PtxModule loaded = modules.get(module);
        if (loaded == null) {
            return -1;
        }
        PtxKernel kernel = loaded.kernel(name);
        if (kernel == null) {
            return 0;
        }
        int index = functions.indexOf(kernel);
        if (index < 0) {
            index = functions.size();
            functions.add(kernel);
        }
        return FUNCTION_BASE + 16L * index;
    }

    synchronized PtxKernel kernel(long function) {
        long index = (function - FUNCTION_BASE) / 16;
        boolean valid = function >= FUNCTION_BASE && (function - FUNCTION_BASE) % 16 == 0 && index < functions.size();
        return valid ? functions.get((int) index) : null;
    }

    // ---- launches ----

    /**
     * Runs one launch, with pinned host memory copied into its device mirrors before and back
     * after (the kernel may read and write it through mapped pointers); a defect is recorded,
     * printed and rethrown.
     */
    synchronized LaunchStatistics launch(PtxKernel kernel, int[] grid, int[] block, int sharedBytes, byte[] parameters) {
        pinned.toDevice();
        memory.beginLaunch(grid[0] * grid[1] * grid[2]);
        try {
            LaunchStatistics statistics = Interpreter.launch(kernel, grid, block, sharedBytes, parameters, memory,
                    schedule);
            launches.add(new LaunchRecord(kernel.name(), grid.clone(), block.clone(), statistics, memory.endLaunch()));
            return statistics;
        } catch (DeviceFault fault) {
            memory.endLaunch();
            record(fault);
            throw fault;
        } finally {
            pinned.toHost();
        }
    }

    /** Records a defect the emulator found, and prints it where the test report shows it. */
    public synchronized void record(DeviceFault fault) {
        faults.add(fault);
        System.err.println("[emulator] " + fault.getMessage());
    }

    /** How many defects were recorded so far; with {@link #faultsFrom} a test's own. */
    public synchronized int faultCount() {
        return faults.size();
    }

    public synchronized List<DeviceFault> faultsFrom(int index) {
        return new ArrayList<>(faults.subList(index, faults.size()));
    }

    /**
     * Runs {@code calls} and returns the defects they showed, removing them from the record, so a
     * test that provokes defects on purpose is not failed by {@link EmulatorChecks}.
     */
    public List<DeviceFault> faultsOf(Runnable calls) {
        int before = faultCount();
        calls.run();
        synchronized (this) {
            List<DeviceFault> mine = new ArrayList<>(faults.subList(before, faults.size()));
            faults.subList(before, faults.size()).clear();
            return mine;
        }
    }

    /** Every launch so far (the cost model reads them; tests count them). */
    public synchronized List<LaunchRecord> launches() {
        return new ArrayList<>(launches);
    }

    // ---- events ----

    synchronized long createEvent() {
        long handle = newHandle();
        events.put(handle, new Event());
        return handle;
    }

    synchronized boolean destroyEvent(long handle) {
        return events.remove(handle) != null;
    }

    /** The event of {@code handle}, or null when it is unknown or destroyed. */
    synchronized Event event(long handle) {
        return events.get(handle);
    }

    /** The event is recorded now, on the device (not by a capture). */
    synchronized void recordEvent(Event event) {
        event.nanos = modeledNanos;
        event.capture = null;
    }

    /** Modeled nanoseconds between two recorded events, or -1 when either is unknown or unrecorded. */
    synchronized long elapsed(long start, long end) {
        Event a = events.get(start);
        Event b = events.get(end);
        return a == null || b == null || a.nanos < 0 || b.nanos < 0 ? -1 : b.nanos - a.nanos;
    }
}

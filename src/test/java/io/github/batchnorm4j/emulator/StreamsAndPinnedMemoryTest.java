package io.github.batchnorm4j.emulator;

import static jcuda.driver.JCudaDriver.CU_LAUNCH_PARAM_BUFFER_POINTER;
import static jcuda.driver.JCudaDriver.CU_LAUNCH_PARAM_BUFFER_SIZE;
import static jcuda.driver.JCudaDriver.CU_LAUNCH_PARAM_END;
import static jcuda.driver.JCudaDriver.CU_MEMHOSTALLOC_DEVICEMAP;
import static jcuda.driver.JCudaDriver.CU_MEMHOSTALLOC_PORTABLE;
import static jcuda.driver.JCudaDriver.CU_STREAM_LEGACY;
import static jcuda.driver.JCudaDriver.CU_STREAM_PER_THREAD;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventQuery;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemHostAlloc;
import static jcuda.driver.JCudaDriver.cuMemHostGetDevicePointer;
import static jcuda.driver.JCudaDriver.cuMemHostGetFlags;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD8;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;
import static jcuda.driver.JCudaDriver.cuStreamGetFlags;
import static jcuda.driver.JCudaDriver.cuStreamIsCapturing;
import static jcuda.driver.JCudaDriver.cuStreamQuery;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;
import static jcuda.driver.CUresult.CUDA_ERROR_ILLEGAL_ADDRESS;
import static jcuda.driver.CUresult.CUDA_ERROR_INVALID_HANDLE;
import static jcuda.driver.CUresult.CUDA_ERROR_INVALID_VALUE;
import static jcuda.driver.CUresult.CUDA_ERROR_STREAM_CAPTURE_IMPLICIT;
import static jcuda.driver.CUresult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
import static jcuda.driver.CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
import static jcuda.driver.CUresult.CUDA_SUCCESS;
import static jcuda.driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_GLOBAL;
import static jcuda.driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED;
import static jcuda.driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL;
import static jcuda.driver.CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_ACTIVE;
import static jcuda.driver.CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_INVALIDATED;
import static jcuda.driver.CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_NONE;
import static jcuda.driver.CUstream_flags.CU_STREAM_NON_BLOCKING;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.TestData;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Pinned host memory, stream accounting and stream capture on the emulated GPU, end to end
 * through JCuda and the stub driver: what the emulator's counters and capture rules promise the
 * cost model and the tests that lean on them. Emulator-only (the counters exist nowhere else), so
 * on a real GPU the class is skipped.
 */
@Tag(TestData.GPU)
class StreamsAndPinnedMemoryTest {
    /** y[i] += x[i] and y[i] = x[i] for i < n, one thread per element: (const float* x, float* y, int n). */
    private static final String PTX = """
            .version 6.3
            .target sm_75
            .address_size 64

            .visible .entry add_into(
            	.param .u64 add_into_param_0,
            	.param .u64 add_into_param_1,
            	.param .u32 add_into_param_2
            )
            {
            	.reg .pred 	%p<2>;
            	.reg .f32 	%f<4>;
            	.reg .b32 	%r<6>;
            	.reg .b64 	%rd<8>;

            	ld.param.u64 	%rd1, [add_into_param_0];
            	ld.param.u64 	%rd2, [add_into_param_1];
            	ld.param.u32 	%r2, [add_into_param_2];
            	mov.u32 	%r3, %ctaid.x;
            	mov.u32 	%r4, %ntid.x;
            	mov.u32 	%r5, %tid.x;
            	mad.lo.s32 	%r1, %r3, %r4, %r5;
            	setp.ge.s32 	%p1, %r1, %r2;
            	@%p1 bra 	$L__BB0_2;

            	cvta.to.global.u64 	%rd3, %rd1;
            	mul.wide.s32 	%rd4, %r1, 4;
            	add.s64 	%rd5, %rd3, %rd4;
            	ld.global.f32 	%f1, [%rd5];
            	cvta.to.global.u64 	%rd6, %rd2;
            	add.s64 	%rd7, %rd6, %rd4;
            	ld.global.f32 	%f2, [%rd7];
            	add.f32 	%f3, %f2, %f1;
            	st.global.f32 	[%rd7], %f3;

            $L__BB0_2:
            	ret;

            }

            .visible .entry copy_into(
            	.param .u64 copy_into_param_0,
            	.param .u64 copy_into_param_1,
            	.param .u32 copy_into_param_2
            )
            {
            	.reg .pred 	%p<2>;
            	.reg .f32 	%f<2>;
            	.reg .b32 	%r<6>;
            	.reg .b64 	%rd<8>;

            	ld.param.u64 	%rd1, [copy_into_param_0];
            	ld.param.u64 	%rd2, [copy_into_param_1];
            	ld.param.u32 	%r2, [copy_into_param_2];
            	mov.u32 	%r3, %ctaid.x;
            	mov.u32 	%r4, %ntid.x;
            	mov.u32 	%r5, %tid.x;
            	mad.lo.s32 	%r1, %r3, %r4, %r5;
            	setp.ge.s32 	%p1, %r1, %r2;
            	@%p1 bra 	$L__BB1_2;

            	cvta.to.global.u64 	%rd3, %rd1;
            	mul.wide.s32 	%rd4, %r1, 4;
            	add.s64 	%rd5, %rd3, %rd4;
            	ld.global.f32 	%f1, [%rd5];
            	cvta.to.global.u64 	%rd6, %rd2;
            	add.s64 	%rd7, %rd6, %rd4;
            	st.global.f32 	[%rd7], %f1;

            $L__BB1_2:
            	ret;

            }
            """;

    private static final int THREADS = 128;
    private static CUfunction addInto;
    private static CUfunction copyInto;

    private final List<CUstream> streams = new ArrayList<>();
    private final List<CUdeviceptr> allocations = new ArrayList<>();
    private final List<Pointer> pinned = new ArrayList<>();

    @BeforeAll
    static void loadKernels() {
        CudaAvailability cuda = CudaAvailability.get();
        assumeTrue(cuda.available && EmulatedGpu.active(), "emulator-only test skipped: " + cuda.reason);
        CUmodule module = new CUmodule();
        assertEquals(CUDA_SUCCESS, cuModuleLoadData(module, PTX));
        addInto = new CUfunction();
        copyInto = new CUfunction();
        assertEquals(CUDA_SUCCESS, cuModuleGetFunction(addInto, module, "add_into"));
        assertEquals(CUDA_SUCCESS, cuModuleGetFunction(copyInto, module, "copy_into"));
    }

    /** Destroying a stream abandons a capture a failed test left open, so it cannot constrain the next test. */
    @AfterEach
    void release() {
        streams.forEach(s -> cuStreamDestroy(s));
        allocations.forEach(p -> cuMemFree(p));
        pinned.forEach(p -> cuMemFreeHost(p));
    }

    // ---- pinned host memory ----

    @Test
    void aKernelWritesThroughAMappedPinnedPointerAndTheHostSeesItAfterTheLaunch() {
        int n = 150;
        Pointer host = pinned(4L * n, CU_MEMHOSTALLOC_DEVICEMAP);
        FloatBuffer view = floats(host, n);
        assertTrue(Float.isNaN(view.get(0)) && Float.isNaN(view.get(n - 1)),
                "pinned memory starts as garbage (NaN), not as zeros");
        float[] x = values(n, 1);
        assertEquals(CUDA_SUCCESS, launch(copyInto, null, device(x), devicePointer(host), n));
        assertArrayEquals(x, array(view), "the host reads what the kernel wrote, with no copy");

        // A pointer inside the range maps to the same offset in the device range.
        assertEquals(CUDA_SUCCESS, launch(copyInto, null, device(new float[] {-7}), devicePointer(host.withByteOffset(8)), 1));
        assertEquals(-7f, view.get(2));
        assertEquals(x[1], view.get(1));
        assertEquals(x[3], view.get(3));
    }

    @Test
    void hostWritesToPinnedMemoryReachTheNextKernel() {
        int n = 40;
        Pointer host = pinned(4L * n, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE);
        CUdeviceptr mapped = devicePointer(host);
        CUdeviceptr y = zeros(n);
        float[] a = values(n, 1);
        float[] b = values(n, 10);
        floats(host, n).put(a);
        assertEquals(CUDA_SUCCESS, launch(addInto, null, mapped, y, n));
        floats(host, n).put(b); // written between launches: the second kernel must see b, not a
        assertEquals(CUDA_SUCCESS, launch(addInto, null, mapped, y, n));
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            expected[i] = a[i] + b[i];
        }
        assertArrayEquals(expected, read(y, n));
    }

    @Test
    void pointersOutsidePinnedMemoryHaveNoDevicePointerAndMappedRangesAreMemchecked() {
        ByteBuffer pageable = ByteBuffer.allocateDirect(64);
        CUdeviceptr unused = new CUdeviceptr();
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuMemHostGetDevicePointer(unused, Pointer.to(pageable), 0));
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuMemFreeHost(Pointer.to(pageable)));

        Pointer host = new Pointer();
        assertEquals(CUDA_SUCCESS, cuMemAllocHost(host, 64));
        int[] flags = {-1};
        assertEquals(CUDA_SUCCESS, cuMemHostGetFlags(flags, host));
        assertEquals(0, flags[0]);
        assertEquals(CUDA_SUCCESS, cuMemHostGetDevicePointer(unused, host.withByteOffset(60), 0));
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuMemHostGetDevicePointer(unused, host.withByteOffset(64), 0),
                "one past the end is outside the allocation");
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuMemHostGetDevicePointer(unused, host, 1), "flags must be 0");
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuMemFreeHost(host.withByteOffset(4)), "not the allocation's start");

        CUdeviceptr mapped = devicePointer(host);
        CUdeviceptr x = device(values(17, 1));
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuMemFree(mapped), "a mapped range is not a cuMemAlloc allocation");
        List<DeviceFault> past = EmulatedGpu.get().faultsOf(
                () -> assertEquals(CUDA_ERROR_ILLEGAL_ADDRESS, launch(copyInto, null, x, mapped, 17)));
        assertFault(past, "runs 4 bytes past the end of the mapped pinned allocation of 64 bytes");

        assertEquals(CUDA_SUCCESS, cuMemFreeHost(host));
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuMemHostGetDevicePointer(unused, host, 0), "freed");
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuMemFreeHost(host), "freed twice");
        List<DeviceFault> freed = EmulatedGpu.get().faultsOf(
                () -> assertEquals(CUDA_ERROR_ILLEGAL_ADDRESS, launch(copyInto, null, x, mapped, 1)));
        assertFault(freed, "freed mapped pinned allocation");
    }

    // ---- stream accounting ----

    @Test
    void legacyStreamWorkSynchronousCopiesAndPageableAsyncCopiesAreCountedApart() {
        int n = 32;
        long bytes = 4L * n;
        CUstream stream = stream(CU_STREAM_NON_BLOCKING);
        CUdeviceptr x = zeros(n);
        CUdeviceptr y = zeros(n);
        ByteBuffer pageable = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
        CUevent event = new CUevent();
        assertEquals(CUDA_SUCCESS, cuEventCreate(event, 0));
        EmulatedGpu.Counters before = EmulatedGpu.get().counters();

        Pointer host = pinned(bytes, 0);                                                  // a host allocation
        assertEquals(CUDA_SUCCESS, cuMemcpyHtoD(x, Pointer.to(values(n, 1)), bytes));     // synchronous
        assertEquals(CUDA_SUCCESS, cuMemcpyHtoDAsync(x, host, bytes, stream));            // pinned
        assertEquals(CUDA_SUCCESS, cuMemcpyHtoDAsync(x, Pointer.to(pageable), bytes, stream)); // pageable
        assertEquals(CUDA_SUCCESS, cuMemcpyDtoHAsync(Pointer.to(pageable), x, bytes, null)); // pageable, legacy
        assertEquals(CUDA_SUCCESS, cuMemcpyDtoHAsync(host.withByteOffset(4), x, bytes - 4, CU_STREAM_PER_THREAD));
        assertEquals(CUDA_SUCCESS, cuMemsetD8Async(y, (byte) 0, bytes, CU_STREAM_LEGACY));  // legacy
        assertEquals(CUDA_SUCCESS, cuMemsetD8(y, (byte) 0, bytes));                       // legacy (synchronous)
        assertEquals(CUDA_SUCCESS, launch(addInto, null, x, y, n));                        // legacy
        assertEquals(CUDA_SUCCESS, launch(addInto, CU_STREAM_LEGACY, x, y, n));            // legacy
        assertEquals(CUDA_SUCCESS, launch(addInto, CU_STREAM_PER_THREAD, x, y, n));
        assertEquals(CUDA_SUCCESS, launch(addInto, stream, x, y, n));
        assertEquals(CUDA_SUCCESS, cuEventRecord(event, stream));
        assertEquals(CUDA_SUCCESS, cuEventQuery(event));
        assertEquals(CUDA_SUCCESS, cuStreamQuery(stream));
        assertEquals(CUDA_SUCCESS, cuStreamWaitEvent(CU_STREAM_PER_THREAD, event, 0));
        assertEquals(CUDA_SUCCESS, cuEventSynchronize(event));                             // the one synchronization

        EmulatedGpu.Counters counted = EmulatedGpu.get().counters().minus(before);
        assertEquals(4, counted.launches());
        assertEquals(5, counted.legacyStreamOperations(), "2 launches, 2 memsets, 1 async copy on the legacy stream");
        assertEquals(1, counted.synchronousCopies());
        assertEquals(2, counted.pageableAsyncCopies());
        assertEquals(3, counted.hostToDevice());
        assertEquals(2, counted.deviceToHost());
        assertEquals(2, counted.memsets());
        assertEquals(1, counted.synchronizations(), "cuEventQuery and cuStreamQuery do not wait");
        assertEquals(1, counted.hostAllocations());
        assertEquals(0, counted.allocations(), "a pinned allocation is not a device allocation");
        assertEquals(0, counted.graphLaunches());
        cuEventDestroy(event);
    }

    @Test
    void aDestroyedStreamIsAnInvalidHandleButTheDefaultStreamsAlwaysAreValid() {
        CUstream stream = stream(CU_STREAM_NON_BLOCKING);
        int[] flags = {-1};
        assertEquals(CUDA_SUCCESS, cuStreamGetFlags(stream, flags));
        assertEquals(CU_STREAM_NON_BLOCKING, flags[0]);
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuStreamCreate(new CUstream(), 2), "no such stream flag");
        CUdeviceptr x = zeros(4);
        CUevent event = new CUevent();
        assertEquals(CUDA_SUCCESS, cuEventCreate(event, 0));
        assertEquals(CUDA_SUCCESS, cuStreamDestroy(stream));
        EmulatedGpu.Counters before = EmulatedGpu.get().counters();
        assertEquals(CUDA_ERROR_INVALID_HANDLE, launch(addInto, stream, x, x, 4));
        assertEquals(CUDA_ERROR_INVALID_HANDLE, cuMemsetD8Async(x, (byte) 0, 16, stream));
        assertEquals(CUDA_ERROR_INVALID_HANDLE, cuMemcpyHtoDAsync(x, Pointer.to(new float[4]), 16, stream));
        assertEquals(CUDA_ERROR_INVALID_HANDLE, cuStreamSynchronize(stream));
        assertEquals(CUDA_ERROR_INVALID_HANDLE, cuEventRecord(event, stream));
        assertEquals(CUDA_ERROR_INVALID_HANDLE, cuStreamWaitEvent(stream, event, 0));
        assertEquals(CUDA_ERROR_INVALID_HANDLE, cuStreamDestroy(stream));
        EmulatedGpu.Counters refused = EmulatedGpu.get().counters().minus(before);
        assertEquals(0, refused.launches() + refused.memsets() + refused.hostToDevice() + refused.synchronizations());
        for (CUstream always : new CUstream[] {null, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD}) {
            assertEquals(CUDA_SUCCESS, launch(addInto, always, x, x, 4), "stream " + always);
            assertEquals(CUDA_SUCCESS, cuStreamSynchronize(always), "stream " + always);
            assertEquals(CUDA_SUCCESS, cuEventRecord(event, always), "stream " + always);
        }
        cuEventDestroy(event);
    }

    // ---- stream capture ----

    @Test
    void aCapturedCopyAndLaunchReplayedThreeTimesEqualThreeDirectRuns() {
        int n = 150;
        long bytes = 4L * n;
        CUstream stream = stream(CU_STREAM_NON_BLOCKING);
        Pointer host = pinned(bytes, 0);
        CUdeviceptr x = zeros(n);
        CUdeviceptr direct = zeros(n);
        CUdeviceptr replayed = zeros(n);
        for (int run = 1; run <= 3; run++) {
            floats(host, n).put(values(n, run));
            assertEquals(CUDA_SUCCESS, cuMemcpyHtoDAsync(x, host, bytes, stream));
            assertEquals(CUDA_SUCCESS, launch(addInto, stream, x, direct, n));
        }
        assertEquals(CUDA_SUCCESS, cuStreamSynchronize(stream));

        EmulatedGpu.Counters beforeCapture = EmulatedGpu.get().counters();
        assertEquals(CUDA_SUCCESS, cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL));
        assertEquals(CU_STREAM_CAPTURE_STATUS_ACTIVE, captureStatus(stream));
        assertEquals(CUDA_SUCCESS, cuMemcpyHtoDAsync(x, host, bytes, stream));
        int[] count = {n};
        assertEquals(CUDA_SUCCESS, cuLaunchKernel(addInto, blocks(n), 1, 1, THREADS, 1, 1, 0, stream,
                Pointer.to(Pointer.to(x), Pointer.to(replayed), Pointer.to(count)), null));
        count[0] = 0; // the capture copied the parameters: the graph still adds n elements
        CUgraph graph = new CUgraph();
        assertEquals(CUDA_SUCCESS, cuStreamEndCapture(stream, graph));
        assertEquals(CU_STREAM_CAPTURE_STATUS_NONE, captureStatus(stream));
        EmulatedGpu.Counters captured = EmulatedGpu.get().counters().minus(beforeCapture);
        assertEquals(0, captured.launches() + captured.hostToDevice(), "a capture records, it does not run");
        assertArrayEquals(new float[n], read(replayed, n));

        CUgraphExec executable = new CUgraphExec();
        assertEquals(CUDA_SUCCESS, cuGraphInstantiate(executable, graph, 0));
        assertEquals(CUDA_SUCCESS, cuGraphDestroy(graph), "an instantiation outlives its graph");
        EmulatedGpu.Counters before = EmulatedGpu.get().counters();
        for (int run = 1; run <= 3; run++) {
            floats(host, n).put(values(n, run)); // a copy node reads the host memory when the graph runs
            assertEquals(CUDA_SUCCESS, cuGraphLaunch(executable, stream));
        }
        assertEquals(CUDA_SUCCESS, cuStreamSynchronize(stream));
        EmulatedGpu.Counters replays = EmulatedGpu.get().counters().minus(before);
        assertEquals(3, replays.graphLaunches());
        assertEquals(3, replays.launches(), "each replayed kernel is a launch the cost model sees");
        assertEquals(3, replays.hostToDevice());
        assertEquals(0, replays.pageableAsyncCopies() + replays.legacyStreamOperations());
        float[] expected = read(direct, n);
        assertTrue(expected[n - 1] != 0, "the direct runs did add");
        assertArrayEquals(expected, read(replayed, n));
        assertEquals(CUDA_SUCCESS, cuGraphExecDestroy(executable));
        assertEquals(CUDA_ERROR_INVALID_HANDLE, cuGraphLaunch(executable, stream));
    }

    @Test
    void aGraphLaunchedOnTheLegacyStreamCountsAsAGraphLaunchAndItsOperations() {
        int n = 8;
        CUstream stream = stream(0);
        CUdeviceptr x = device(values(n, 1));
        CUdeviceptr y = zeros(n);
        assertEquals(CUDA_SUCCESS, cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL));
        assertEquals(CUDA_SUCCESS, cuMemsetD8Async(y, (byte) 0, 4L * n, stream));
        assertEquals(CUDA_SUCCESS, launch(addInto, stream, x, y, n));
        CUgraphExec executable = instantiate(stream);
        List<EmulatedGpu.LaunchRecord> earlier = EmulatedGpu.get().launches();
        EmulatedGpu.Counters before = EmulatedGpu.get().counters();
        assertEquals(CUDA_SUCCESS, cuGraphLaunch(executable, new CUstream()));
        assertEquals(CUDA_SUCCESS, cuGraphLaunch(executable, CU_STREAM_LEGACY));
        EmulatedGpu.Counters counted = EmulatedGpu.get().counters().minus(before);
        assertEquals(2, counted.graphLaunches());
        assertEquals(2, counted.launches());
        assertEquals(2, counted.memsets());
        assertEquals(4, counted.legacyStreamOperations(), "each replayed operation ran on the legacy stream");
        List<EmulatedGpu.LaunchRecord> all = EmulatedGpu.get().launches();
        assertEquals("add_into", all.get(all.size() - 1).kernel());
        assertEquals(earlier.size() + 2, all.size());
        assertArrayEquals(values(n, 1), read(y, n), "memset then add: one run's worth each time");
        cuGraphExecDestroy(executable);
    }

    @Test
    void aFaultInAReplayedKernelIsRecordedAsForADirectLaunch() {
        CUstream stream = stream(CU_STREAM_NON_BLOCKING);
        CUdeviceptr x = device(values(8, 1));
        CUdeviceptr y = zeros(8);
        assertEquals(CUDA_SUCCESS, cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL));
        assertEquals(CUDA_SUCCESS, launch(addInto, stream, x, y, 9)); // one element past both allocations
        CUgraphExec executable = instantiate(stream);
        List<DeviceFault> faults = EmulatedGpu.get().faultsOf(
                () -> assertEquals(CUDA_ERROR_ILLEGAL_ADDRESS, cuGraphLaunch(executable, stream)));
        assertFault(faults, "add_into");
        cuGraphExecDestroy(executable);
    }

    @Test
    void synchronizingACapturingStreamOrACapturedEventIsUnsupportedAndInvalidatesTheCapture() {
        CUstream stream = stream(CU_STREAM_NON_BLOCKING);
        CUdeviceptr x = zeros(4);
        assertEquals(CUDA_SUCCESS, cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL));
        assertEquals(CUDA_SUCCESS, launch(addInto, stream, x, x, 4));
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, cuStreamSynchronize(stream));
        assertEquals(CU_STREAM_CAPTURE_STATUS_INVALIDATED, captureStatus(stream));
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, launch(addInto, stream, x, x, 4));
        CUgraph graph = new CUgraph();
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, cuStreamEndCapture(stream, graph));
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuGraphInstantiate(new CUgraphExec(), graph, 0), "no graph came back");
        assertEquals(CU_STREAM_CAPTURE_STATUS_NONE, captureStatus(stream));
        assertEquals(CUDA_SUCCESS, launch(addInto, stream, x, x, 4), "the stream works again after the capture");

        CUevent event = new CUevent();
        assertEquals(CUDA_SUCCESS, cuEventCreate(event, 0));
        assertEquals(CUDA_SUCCESS, cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_RELAXED));
        assertEquals(CUDA_SUCCESS, cuEventRecord(event, stream));
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, cuEventSynchronize(event), "in every capture mode");
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, cuStreamEndCapture(stream, new CUgraph()));
        assertEquals(CUDA_SUCCESS, cuEventRecord(event, stream));
        assertEquals(CUDA_SUCCESS, cuEventSynchronize(event), "recorded outside a capture, it is an event again");
        cuEventDestroy(event);
    }

    @Test
    void allocatingDuringAGlobalCaptureIsUnsupportedButARelaxedCaptureAllowsIt() {
        CUstream stream = stream(CU_STREAM_NON_BLOCKING);
        assertEquals(CUDA_SUCCESS, cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL));
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, cuMemAlloc(new CUdeviceptr(), 16));
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, cuStreamEndCapture(stream, new CUgraph()));

        assertEquals(CUDA_SUCCESS, cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, cuMemAllocHost(new Pointer(), 16));
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, cuMemcpyHtoD(new CUdeviceptr(), Pointer.to(new float[1]), 4),
                "a synchronous copy is unsafe too");
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, cuStreamEndCapture(stream, new CUgraph()));

        assertEquals(CUDA_SUCCESS, cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_RELAXED));
        CUdeviceptr p = new CUdeviceptr();
        assertEquals(CUDA_SUCCESS, cuMemAlloc(p, 16));
        assertEquals(CUDA_SUCCESS, cuMemFree(p));
        CUgraph graph = new CUgraph();
        assertEquals(CUDA_SUCCESS, cuStreamEndCapture(stream, graph));
        assertEquals(CUDA_SUCCESS, cuGraphDestroy(graph));
    }

    @Test
    void usingTheLegacyStreamWhileABlockingStreamCapturesIsAnImplicitDependency() {
        CUstream blocking = stream(0);
        CUdeviceptr x = zeros(4);
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, cuStreamBeginCapture(new CUstream(), CU_STREAM_CAPTURE_MODE_GLOBAL));
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
                cuStreamBeginCapture(CU_STREAM_LEGACY, CU_STREAM_CAPTURE_MODE_GLOBAL));

        assertEquals(CUDA_SUCCESS, cuStreamBeginCapture(blocking, CU_STREAM_CAPTURE_MODE_RELAXED));
        int[] status = {-1};
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, cuStreamIsCapturing(new CUstream(), status));
        assertEquals(CU_STREAM_CAPTURE_STATUS_ACTIVE, captureStatus(blocking), "asking does not invalidate");
        long launches = EmulatedGpu.get().counters().launches();
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, launch(addInto, null, x, x, 4));
        assertEquals(launches, EmulatedGpu.get().counters().launches(), "the refused launch did not run");
        assertEquals(CU_STREAM_CAPTURE_STATUS_INVALIDATED, captureStatus(blocking));
        assertEquals(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, cuStreamEndCapture(blocking, new CUgraph()));

        // A non-blocking stream does not synchronize with the legacy stream, so its capture leaves it usable.
        CUstream nonBlocking = stream(CU_STREAM_NON_BLOCKING);
        assertEquals(CUDA_SUCCESS, cuStreamBeginCapture(nonBlocking, CU_STREAM_CAPTURE_MODE_RELAXED));
        assertEquals(CUDA_SUCCESS, launch(addInto, CU_STREAM_LEGACY, x, x, 4));
        assertEquals(launches + 1, EmulatedGpu.get().counters().launches());
        CUgraph graph = new CUgraph();
        assertEquals(CUDA_SUCCESS, cuStreamEndCapture(nonBlocking, graph));
        assertEquals(CUDA_SUCCESS, cuGraphDestroy(graph));
    }

    // ---- packed parameters (cuLaunchKernel's extra, as KernelCall passes them) ----

    @Test
    void aPackedParameterBufferLaunchesAsKernelParamsDoAndIsCheckedForSize() {
        int n = 40;
        CUstream stream = stream(CU_STREAM_NON_BLOCKING);
        CUdeviceptr x = zeros(n);
        CUdeviceptr y = zeros(n);
        assertEquals(CUDA_SUCCESS, cuMemcpyHtoD(x, Pointer.to(values(n, 2)), 4L * n));
        // add_into(x, y, n): two pointers, then an int at offset 16; 20 bytes in all
        java.nio.ByteBuffer packed = java.nio.ByteBuffer.allocateDirect(24).order(java.nio.ByteOrder.nativeOrder());
        packed.putLong(0, io.github.batchnorm4j.internal.cuda.DeviceAddress.of(x))
                .putLong(8, io.github.batchnorm4j.internal.cuda.DeviceAddress.of(y)).putInt(16, n);
        long[] size = {20};
        Pointer extra = Pointer.to(CU_LAUNCH_PARAM_BUFFER_POINTER, Pointer.to(packed), CU_LAUNCH_PARAM_BUFFER_SIZE,
                Pointer.to(size), CU_LAUNCH_PARAM_END);
        assertEquals(CUDA_SUCCESS, cuLaunchKernel(addInto, blocks(n), 1, 1, THREADS, 1, 1, 0, stream, null, extra));
        assertArrayEquals(values(n, 2), read(y, n));
        size[0] = 24;
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(addInto, blocks(n), 1, 1, THREADS, 1, 1, 0, stream,
                null, extra), "a buffer of other than the kernel's 20 .param bytes");
        size[0] = 20;
        assertEquals(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(addInto, blocks(n), 1, 1, THREADS, 1, 1, 0, stream,
                Pointer.to(Pointer.to(x), Pointer.to(y), Pointer.to(new int[] {n})), extra),
                "kernelParams and extra at once");
        assertArrayEquals(values(n, 2), read(y, n), "refused launches ran nothing");
    }

    // ---- counting driver (HostOverhead) ----

    @Test
    void withKernelsOffALaunchIsCountedAndCheckedButDoesNotRun() {
        int n = 70;
        CUstream stream = stream(CU_STREAM_NON_BLOCKING);
        CUdeviceptr x = zeros(n);
        CUdeviceptr y = zeros(n);
        assertEquals(CUDA_SUCCESS, cuMemcpyHtoD(x, Pointer.to(values(n, 1)), 4L * n));
        EmulatedGpu gpu = EmulatedGpu.get();
        int records = gpu.launches().size();
        EmulatedGpu.Counters before = gpu.counters();
        gpu.executeKernels(false);
        try {
            assertEquals(CUDA_SUCCESS, launch(addInto, stream, x, y, n));
            assertEquals(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(addInto, 1, 1, 1, 4096, 1, 1, 0, stream,
                    Pointer.to(Pointer.to(x), Pointer.to(y), Pointer.to(new int[] {n})), null),
                    "the launch's geometry is still checked");
        } finally {
            gpu.executeKernels(true);
        }
        assertEquals(1, gpu.counters().minus(before).launches());
        assertEquals(records, gpu.launches().size(), "no launch record for the cost model");
        assertArrayEquals(new float[n], read(y, n), "the kernel did not run");
        assertEquals(CUDA_SUCCESS, launch(addInto, stream, x, y, n));
        assertArrayEquals(values(n, 1), read(y, n), "on again, kernels run");
    }

    // ---- helpers ----
    // JCuda passes null as stream 0 for launches and copies; its graph and capture calls want new CUstream().

    private static int launch(CUfunction function, CUstream stream, CUdeviceptr in, CUdeviceptr out, int n) {
        return cuLaunchKernel(function, blocks(n), 1, 1, THREADS, 1, 1, 0, stream,
                Pointer.to(Pointer.to(in), Pointer.to(out), Pointer.to(new int[] {n})), null);
    }

    private static int blocks(int n) {
        return (n + THREADS - 1) / THREADS;
    }

    private static int captureStatus(CUstream stream) {
        int[] status = {-1};
        assertEquals(CUDA_SUCCESS, cuStreamIsCapturing(stream, status));
        return status[0];
    }

    private static CUgraphExec instantiate(CUstream capturing) {
        CUgraph graph = new CUgraph();
        assertEquals(CUDA_SUCCESS, cuStreamEndCapture(capturing, graph));
        CUgraphExec executable = new CUgraphExec();
        assertEquals(CUDA_SUCCESS, cuGraphInstantiate(executable, graph, 0));
        assertEquals(CUDA_SUCCESS, cuGraphDestroy(graph));
        return executable;
    }

    private static void assertFault(List<DeviceFault> faults, String what) {
        assertEquals(1, faults.size(), "one defect recorded: " + faults);
        assertEquals("memcheck", faults.get(0).check(), faults.get(0).getMessage());
        assertTrue(faults.get(0).getMessage().contains(what), "names '" + what + "': " + faults.get(0).getMessage());
    }

    private CUstream stream(int flags) {
        CUstream stream = new CUstream();
        assertEquals(CUDA_SUCCESS, cuStreamCreate(stream, flags));
        streams.add(stream);
        return stream;
    }

    private Pointer pinned(long bytes, int flags) {
        Pointer host = new Pointer();
        assertEquals(CUDA_SUCCESS, flags == 0 ? cuMemAllocHost(host, bytes) : cuMemHostAlloc(host, bytes, flags));
        pinned.add(host);
        return host;
    }

    private static CUdeviceptr devicePointer(Pointer host) {
        CUdeviceptr device = new CUdeviceptr();
        assertEquals(CUDA_SUCCESS, cuMemHostGetDevicePointer(device, host, 0));
        return device;
    }

    private CUdeviceptr device(float[] values) {
        CUdeviceptr p = zeros(values.length);
        assertEquals(CUDA_SUCCESS, cuMemcpyHtoD(p, Pointer.to(values), 4L * values.length));
        return p;
    }

    private CUdeviceptr zeros(int n) {
        CUdeviceptr p = new CUdeviceptr();
        assertEquals(CUDA_SUCCESS, cuMemAlloc(p, 4L * n));
        allocations.add(p);
        assertEquals(CUDA_SUCCESS, cuMemsetD8(p, (byte) 0, 4L * n));
        return p;
    }

    private static float[] read(CUdeviceptr p, int n) {
        float[] values = new float[n];
        assertEquals(CUDA_SUCCESS, cuMemcpyDtoH(Pointer.to(values), p, 4L * n));
        return values;
    }

    private static FloatBuffer floats(Pointer host, int n) {
        return host.getByteBuffer(0, 4L * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static float[] array(FloatBuffer view) {
        float[] values = new float[view.capacity()];
        view.duplicate().rewind().get(values);
        return values;
    }

    /** Distinct, exactly representable values: i + 0.25 * scale. */
    private static float[] values(int n, int scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = i + 0.25f * scale;
        }
        return values;
    }
}

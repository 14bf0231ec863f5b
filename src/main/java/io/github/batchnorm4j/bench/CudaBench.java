package io.github.batchnorm4j.bench;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;

import io.github.batchnorm4j.BatchNormRuntime;
import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.DeviceBatchNorm;
import io.github.batchnorm4j.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * Times the CUDA path on device memory through {@link DeviceBatchNorm}: data stay on the device,
 * times come from CUDA events around k calls on the bench's own stream, and the inputs rotate
 * among copies that together exceed L2, so repeats read memory as a training loop would. Each
 * record carries the driver calls of one call (launches, syncs, copies), as the layer counts
 * them. The ceiling is a device-to-device copy of the same tensor, timed the same way.
 */
final class CudaBench implements BackendBench {
    /** Rotated inputs should exceed the L2 of an H100 or H200 (50-60 MB) several times. */
    private static final long ROTATION_BYTES = 256L << 20;
    private static final int MAX_COPIES = 8;

    private final MedianTimer timer;
    private final CUevent start = new CUevent();
    private final CUevent end = new CUevent();
    private final String device;
    private final CUstream stream = new CUstream();

    CudaBench(boolean quick) {
        this.timer = new MedianTimer(quick, this::eventSeconds);
        this.device = BatchNormRuntime.backendReport();
        check(cuInit(0), "cuInit");
        CUdevice dev = new CUdevice();
        check(cuDeviceGet(dev, 0), "cuDeviceGet");
        CUcontext context = new CUcontext();
        check(cuDevicePrimaryCtxRetain(context, dev), "cuDevicePrimaryCtxRetain"); // the library's context
        check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
        check(cuEventCreate(start, 0), "cuEventCreate");
        check(cuEventCreate(end, 0), "cuEventCreate");
        check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String description() {
        return device;
    }

    @Override
    public String whyNot(BenchCase benchCase) {
        long[] free = new long[1];
        long[] total = new long[1];
        check(cuMemGetInfo(free, total), "cuMemGetInfo");
        long needed = 4 * benchCase.bytes() + (64L << 20); // x, dy, y, dx and room for the layer's own buffers
        if (needed > free[0]) {
            return String.format("needs %.1f GB of device memory, %.1f GB free", needed / 1e9, free[0] / 1e9);
        }
        return null;
    }

    @Override
    public List<BenchRecord> run(BenchCase benchCase) {
        Shape shape = benchCase.shape();
        long bytes = benchCase.bytes();
        int count = Math.toIntExact(shape.elementCount());
        long[] free = new long[1];
        long[] total = new long[1];
        check(cuMemGetInfo(free, total), "cuMemGetInfo");
        long rotation = Math.max(1, Math.min(MAX_COPIES, ROTATION_BYTES / Math.max(bytes, 1)));
        int copies = (int) Math.max(1, Math.min(rotation, (free[0] / 2 - 2 * bytes) / Math.max(2 * bytes, 1)));
        List<CUdeviceptr> allocated = new ArrayList<>();
        try {
            CUdeviceptr[] xs = new CUdeviceptr[copies];
            CUdeviceptr[] dys = new CUdeviceptr[copies];
            float[] hostX = CpuBench.filled(count, 1, 3, 2);
            float[] hostDy = CpuBench.filled(count, 2, 0, 1);
            for (int i = 0; i < copies; i++) {
                xs[i] = upload(hostX, bytes, allocated);
                dys[i] = upload(hostDy, bytes, allocated);
            }
            CUdeviceptr y = allocate(bytes, allocated);
            CUdeviceptr dx = allocate(bytes, allocated);
            CUstream stream = this.stream; // the events are recorded on it too
            double copySeconds = timer.medianSeconds(
                    i -> check(cuMemcpyDtoDAsync(y, xs[i % copies], bytes, stream), "cuMemcpyDtoDAsync"));
            double copyGbps = 2.0 * bytes / copySeconds / 1e9;
            List<BenchRecord> records = new ArrayList<>();
            try (BatchNorm layer = BatchNorm.builder(shape.channels()).build()) {
                DeviceBatchNorm onDevice = layer.device();
                for (BenchOp op : benchCase.ops()) {
                    IntConsumer call = switch (op) {
                        case TRAIN_FORWARD -> i -> onDevice.forwardTraining(shape, xs[i % copies], y, stream);
                        case INFERENCE -> i -> onDevice.forwardInference(shape, xs[i % copies], y, stream);
                        case BACKWARD -> i -> onDevice.backward(shape, xs[0], dys[i % copies], dx, stream);
                    };
                    if (op == BenchOp.BACKWARD) {
                        onDevice.forwardTraining(shape, xs[0], y, stream); // backward differentiates the latest forward
                    }
                    double seconds = timer.medianSeconds(call);
                    DeviceBatchNorm.DriverCalls before = onDevice.driverCalls();
                    call.accept(0);
                    DeviceBatchNorm.DriverCalls perCall = onDevice.driverCalls().minus(before);
                    records.add(new BenchRecord(op, benchCase, name(), seconds, copyGbps, null, Double.NaN, perCall));
                }
            }
            return records;
        } finally {
            for (CUdeviceptr p : allocated) {
                cuMemFree(p);
            }
        }
    }

    private double eventSeconds(IntConsumer call, int k) {
        check(cuEventRecord(start, stream), "cuEventRecord");
        for (int i = 0; i < k; i++) {
            call.accept(i);
        }
        check(cuEventRecord(end, stream), "cuEventRecord");
        check(cuEventSynchronize(end), "cuEventSynchronize");
        float[] milliseconds = new float[1];
        check(cuEventElapsedTime(milliseconds, start, end), "cuEventElapsedTime");
        return milliseconds[0] / 1e3;
    }

    private static CUdeviceptr allocate(long bytes, List<CUdeviceptr> allocated) {
        CUdeviceptr p = new CUdeviceptr();
        check(cuMemAlloc(p, bytes), "cuMemAlloc(" + bytes + " bytes)");
        allocated.add(p);
        return p;
    }

    private static CUdeviceptr upload(float[] values, long bytes, List<CUdeviceptr> allocated) {
        CUdeviceptr p = allocate(bytes, allocated);
        check(cuMemcpyHtoD(p, Pointer.to(values), bytes), "cuMemcpyHtoD");
        return p;
    }

    @Override
    public void close() {
        cuEventDestroy(start);
        cuEventDestroy(end);
        cuStreamDestroy(stream);
    }

    private static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException(call + " failed: " + CUresult.stringFor(result));
        }
    }
}

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

/**
 * Times the CUDA path on device memory through {@link DeviceBatchNorm}: data stay on the device,
 * times come from CUDA events around k calls on the default stream, and the inputs rotate among
 * copies that together exceed L2, so repeats read memory as a training loop would. Each call
 * includes its host work (checks, launches, the copy of running statistics back), as a caller sees
 * it; on the single-example shapes that host work is nearly all of the time. The ceiling is a
 * device-to-device copy of the same tensor, timed the same way.
 */
final class CudaBench implements BackendBench {
    /** Rotated inputs should exceed the L2 of an H100 or H200 (50-60 MB) several times. */
    private static final long ROTATION_BYTES = 256L << 20;
    private static final int MAX_COPIES = 8;

    private final MedianTimer timer;
    private final CUevent start = new CUevent();
    private final CUevent end = new CUevent();
    private final String device;

    CudaBench(boolean quick) {
        this.timer = new MedianTimer(quick, this::eventSeconds);
        this.device = BatchNorm.backendReport();
        check(cuInit(0), "cuInit");
        CUdevice dev = new CUdevice();
        check(cuDeviceGet(dev, 0), "cuDeviceGet");
        CUcontext context = new CUcontext();
        check(cuDevicePrimaryCtxRetain(context, dev), "cuDevicePrimaryCtxRetain"); // the library's context
        check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
        check(cuEventCreate(start, 0), "cuEventCreate");
        check(cuEventCreate(end, 0), "cuEventCreate");
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
            CUstream stream = null; // the default stream, on which the events are recorded
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
                    records.add(new BenchRecord(op, benchCase, name(), timer.medianSeconds(call), copyGbps, null,
                            Double.NaN));
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
        check(cuEventRecord(start, null), "cuEventRecord");
        for (int i = 0; i < k; i++) {
            call.accept(i);
        }
        check(cuEventRecord(end, null), "cuEventRecord");
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
    }

    private static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException(call + " failed: " + CUresult.stringFor(result));
        }
    }
}

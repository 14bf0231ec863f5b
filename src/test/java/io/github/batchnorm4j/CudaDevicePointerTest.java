package io.github.batchnorm4j;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.CudaContext;
import java.util.Random;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend's caller-facing promises: device pointers on the caller's stream give the same
 * bits as host arrays; bad pointers are refused before any launch; steady state allocates nothing
 * on the Java heap; several layers on several threads give the sequential results. Skipped, with
 * the probe's reason, where no CUDA device works.
 */
@Tag(TestData.GPU)
class CudaDevicePointerTest {
    private CudaContext cuda;

    @BeforeEach
    void requireCuda() {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        cuda = availability.context;
        cuda.makeCurrent();
    }

    @Test
    void devicePointersOnACallerStreamMatchHostArraysBitForBit() {
        for (Shape shape : new Shape[] {Shape.nchw(3, 5, 4, 4), Shape.nchw(2, 3, 3, 3), Shape.nhwc(2, 3, 3, 8),
            Shape.nc(65, 7)}) {
            int count = (int) shape.elementCount();
            Random random = new Random(count);
            float[] x = TestData.activations(random, shape, 100);
            float[] dy = TestData.gaussian(random, count);
            CUstream stream = new CUstream();
            cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
            // One float past a 16-byte boundary: the kernels must take their scalar path.
            for (int offsetFloats : new int[] {0, 1}) {
                CUdeviceptr block = new CUdeviceptr();
                cuMemAlloc(block, 4L * (4L * count + 8));
                CUdeviceptr devX = block.withByteOffset(4L * offsetFloats);
                CUdeviceptr devDy = block.withByteOffset(4L * (count + 2 + offsetFloats));
                CUdeviceptr devY = block.withByteOffset(4L * (2 * count + 4 + offsetFloats));
                CUdeviceptr devDx = block.withByteOffset(4L * (3 * count + 6 + offsetFloats));
                try (BatchNorm onDevice = BatchNorm.builder(shape.channels()).build(new CudaBackend(cuda));
                        BatchNorm onHost = BatchNorm.builder(shape.channels()).build(new CudaBackend(cuda))) {
                    cuMemcpyHtoD(devX, Pointer.to(x), 4L * count);
                    cuMemcpyHtoD(devDy, Pointer.to(dy), 4L * count);
                    float[] want = new float[count], got = new float[count];
                    for (int step = 0; step < 3; step++) {
                        onDevice.device().forwardTraining(shape, devX, devY, stream);
                        onHost.forwardTraining(shape, x, want);
                    }
                    cuStreamSynchronize(stream); // device calls do not wait for their work
                    cuMemcpyDtoH(Pointer.to(got), devY, 4L * count);
                    String where = shape + " at float offset " + offsetFloats;
                    assertArrayEquals(want, got, "training y " + where);
                    assertArrayEquals(onHost.runningMean(), onDevice.runningMean(), "running mean " + where);
                    assertArrayEquals(onHost.runningVar(), onDevice.runningVar(), "running var " + where);

                    onDevice.device().backward(shape, devX, devDy, devDx, stream);
                    onHost.backward(shape, x, dy, want);
                    cuStreamSynchronize(stream); // device calls do not wait for their work
                    cuMemcpyDtoH(Pointer.to(got), devDx, 4L * count);
                    assertArrayEquals(want, got, "dx " + where);
                    assertArrayEquals(onHost.gammaGradient(), onDevice.gammaGradient(), "dgamma " + where);

                    onDevice.device().forwardInference(shape, devX, devX, stream); // in place
                    onHost.forwardInference(shape, x, want);
                    cuStreamSynchronize(stream); // device calls do not wait for their work
                    cuMemcpyDtoH(Pointer.to(got), devX, 4L * count);
                    assertArrayEquals(want, got, "in-place inference " + where);
                } finally {
                    cuMemFree(block);
                }
            }
            cuStreamDestroy(stream);
        }
    }

    @Test
    void badDevicePointersAreRefusedBeforeAnyLaunch() {
        Shape shape = Shape.nchw(2, 3, 4, 4);
        CUdeviceptr small = new CUdeviceptr();
        cuMemAlloc(small, 4L * 95); // one float short
        CUdeviceptr big = new CUdeviceptr();
        cuMemAlloc(big, 4L * 200);
        try (BatchNorm layer = BatchNorm.builder(3).build(new CudaBackend(cuda))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> layer.device().forwardTraining(shape, small, big, null));
            assertEquals("x has 380 bytes from the pointer to the end of its allocation but NCHW [2, 3, 4, 4] "
                    + "needs 384", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> layer.device().forwardTraining(shape, big, big.withByteOffset(4), null));
            assertTrue(e.getMessage().startsWith("x and y partly overlap (4 bytes apart"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> layer.device().forwardTraining(shape, big, null, null));
            assertEquals("y must not be null", e.getMessage());
            cuMemFree(small);
            e = assertThrows(IllegalArgumentException.class,
                    () -> layer.device().forwardTraining(shape, small, big, null));
            assertTrue(e.getMessage().startsWith("x is not a live device allocation"), e.getMessage());
            assertEquals(0, layer.numBatchesTracked(), "nothing ran");
            assertArrayEquals(new float[] {0, 0, 0}, layer.runningMean());
        } finally {
            cuMemFree(big);
        }
    }

    @Test
    void steadyStateStepsAllocateNothingOnTheJavaHeap() {
        // Small, so the 2000 warm-up steps per phase take seconds on the emulated GPU too.
        Shape shape = Shape.nchw(2, 4, 3, 3);
        int count = (int) shape.elementCount();
        float[] x = TestData.activations(new Random(3), shape, 1);
        float[] y = new float[count], dx = new float[count];
        CUdeviceptr dX = new CUdeviceptr(), dY = new CUdeviceptr();
        cuMemAlloc(dX, 4L * count);
        cuMemAlloc(dY, 4L * count);
        cuMemcpyHtoD(dX, Pointer.to(x), 4L * count);
        try (BatchNorm layer = BatchNorm.builder(shape.channels()).build(new CudaBackend(cuda))) {
            long hostArrays = Allocation.medianBytes(() -> {
                layer.forwardTraining(shape, x, y);
                layer.backward(shape, x, y, dx);
                layer.forwardInference(shape, x, y);
            });
            DeviceBatchNorm device = layer.device();
            long devicePointers = Allocation.medianBytes(() -> {
                device.forwardTraining(shape, dX, dY, null);
                device.backward(shape, dX, dY, dY, null);
                device.forwardInference(shape, dX, dY, null);
            });
            assertEquals(0, hostArrays, "median bytes allocated by 20 host-array steps");
            assertEquals(0, devicePointers, "median bytes allocated by 20 device-pointer steps");
        } finally {
            cuMemFree(dX);
            cuMemFree(dY);
        }
    }

    @Test
    void layersOnSeveralThreadsGiveTheSequentialResults() throws Exception {
        ConcurrentUse.assertSameAsSequential(Shape.nhwc(4, 5, 5, 12), 4, 2, 10, () -> new CudaBackend(cuda));
    }
}

package io.github.batchnorm4j;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.emulator.EmulatedGpu;
import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.CudaContext;
import java.nio.file.Path;
import java.util.Random;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No work of the library goes on the legacy default stream, over a layer's whole life: first
 * calls (which allocate and zero their buffers), host-array and device-pointer calls, every
 * accessor, save, load, fromFile, a synchronized step, close. The legacy stream does not order
 * itself with the layer's non-blocking stream or with another thread's per-thread stream, so a
 * synchronous copy or memset there can land after a kernel that reads it (CUDA driver API,
 * "Stream synchronization behavior" and "API synchronization behavior"). Counted by the
 * emulator, so this runs emulated only.
 */
@Tag(TestData.GPU)
class CudaLegacyStreamTest {
    @TempDir
    Path folder;
    private CudaContext cuda;

    @BeforeEach
    void requireEmulator() {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        assumeTrue(EmulatedGpu.active(), "counts driver calls by stream, which only the emulator can");
        cuda = availability.context;
        cuda.makeCurrent();
    }

    @Test
    void aLayersWholeLifeLeavesTheLegacyStreamAlone() throws Exception {
        for (Shape shape : new Shape[] {Shape.nchw(3, 5, 4, 4), Shape.nhwc(2, 3, 3, 8), Shape.nc(65, 7)}) {
            int count = (int) shape.elementCount();
            int c = shape.channels();
            float[] x = TestData.activations(new Random(count), shape, 20);
            float[] y = new float[count], dx = new float[count];
            float[] ones = new float[c];
            java.util.Arrays.fill(ones, 1.5f);
            CUstream stream = new CUstream();
            cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
            CUdeviceptr dX = new CUdeviceptr(), dY = new CUdeviceptr(), dDx = new CUdeviceptr();
            for (CUdeviceptr p : new CUdeviceptr[] {dX, dY, dDx}) {
                cuMemAlloc(p, 4L * count);
            }
            cuMemcpyHtoDAsync(dX, Pointer.to(x), 4L * count, stream);
            cuStreamSynchronize(stream);
            Path file = folder.resolve("state-" + shape.layout() + ".npz");
            EmulatedGpu.Counters before = EmulatedGpu.get().counters();
            try (BatchNorm layer = BatchNorm.builder(c).batchRenormalization(2, 1).build(new CudaBackend(cuda))) {
                DeviceBatchNorm device = layer.device();
                device.forwardTraining(shape, dX, dY, stream); // the first call allocates and zeroes its buffers
                device.backward(shape, dX, dY, dDx, stream);
                device.forwardInference(shape, dX, dY, stream);
                layer.forwardTraining(shape, x, y);
                layer.backward(shape, x, y, dx);
                layer.forwardInference(shape, x, y);
                layer.setGamma(ones);
                layer.setBeta(ones);
                layer.setRunningMean(ones);
                layer.setRunningVar(ones);
                layer.setNumBatchesTracked(3);
                layer.setRunningStatistics(new PopulationStatistics(c).add(shape, x));
                layer.gamma();
                layer.runningVar();
                layer.savedMean();
                layer.gammaGradient();
                layer.inferenceAffine();
                layer.save(file);
                layer.load(file);
                SyncBatchNorm sync = new SyncBatchNorm(layer);
                sync.forwardTraining(shape, x, y);
                sync.backward(shape, x, y, dx);
                device.gamma();
                device.forwardTraining(shape, dX, dY, stream);
                cuStreamSynchronize(stream);
            }
            try (BatchNorm loaded = BatchNorm.fromFile(file)) {
                loaded.forwardInference(shape, x, y);
            }
            EmulatedGpu.Counters used = EmulatedGpu.get().counters().minus(before);
            String where = shape + ": ";
            assertEquals(0, used.legacyStreamOperations(), where + "launches, async copies and memsets on the legacy stream");
            assertEquals(0, used.synchronousCopies(), where + "synchronous copies (legacy stream)");
            for (CUdeviceptr p : new CUdeviceptr[] {dX, dY, dDx}) {
                cuMemFree(p);
            }
            cuStreamDestroy(stream);
        }
    }
}

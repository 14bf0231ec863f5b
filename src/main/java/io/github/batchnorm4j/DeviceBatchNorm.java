package io.github.batchnorm4j;

import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.internal.cuda.DeviceAddress;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * A {@link BatchNorm} layer's entry points for device memory the caller owns: tensors stay where
 * they are, kernels run on the caller's stream (null: the default stream). Obtained from
 * {@link BatchNorm#device()}; shares the layer's state, settings and validation.
 *
 * <p>Each pointer is checked before any launch: it must lie in a live allocation of the current
 * CUDA context with room for the whole tensor, and an output may be its input (the same address)
 * but may not partly overlap it. Each call returns when its work on the stream is done, because
 * the running statistics and the saved statistics live on the host (as for host arrays).
 */
public final class DeviceBatchNorm {
    private final BatchNorm layer;
    private final CudaBackend backend;

    DeviceBatchNorm(BatchNorm layer, CudaBackend backend) {
        this.layer = layer;
        this.backend = backend;
    }

    /** Training forward on device memory; see {@link BatchNorm#forwardTraining(Shape, float[], float[])}. */
    public void forwardTraining(Shape shape, CUdeviceptr x, CUdeviceptr y, CUstream stream) {
        layer.enter(shape, true);
        try {
            checkTensor("x", x, shape);
            checkTensor("y", y, shape);
            checkNoPartialOverlap("x", x, "y", y, shape);
            backend.forwardTraining(layer.state, shape, x, y, stream);
        } finally {
            layer.exit();
        }
    }

    /** Inference forward on device memory; see {@link BatchNorm#forwardInference(Shape, float[], float[])}. */
    public void forwardInference(Shape shape, CUdeviceptr x, CUdeviceptr y, CUstream stream) {
        layer.enter(shape, !layer.config().trackRunningStats());
        try {
            checkTensor("x", x, shape);
            checkTensor("y", y, shape);
            checkNoPartialOverlap("x", x, "y", y, shape);
            backend.forwardInference(layer.state, shape, x, y, stream);
        } finally {
            layer.exit();
        }
    }

    /** Backward on device memory; see {@link BatchNorm#backward(Shape, float[], float[], float[])}. */
    public void backward(Shape shape, CUdeviceptr x, CUdeviceptr dy, CUdeviceptr dx, CUstream stream) {
        layer.enter(shape, false);
        try {
            layer.state.checkBackwardShape(shape);
            checkTensor("x", x, shape);
            checkTensor("dy", dy, shape);
            checkTensor("dx", dx, shape);
            checkNoPartialOverlap("dy", dy, "dx", dx, shape);
            checkNoPartialOverlap("x", x, "dx", dx, shape);
            backend.backward(layer.state, shape, x, dy, dx, stream);
        } finally {
            layer.exit();
        }
    }

    private void checkTensor(String name, CUdeviceptr pointer, Shape shape) {
        if (pointer == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        backend.checkDeviceRange(name, pointer, bytes(shape), shape);
    }

    private static void checkNoPartialOverlap(String aName, CUdeviceptr a, String bName, CUdeviceptr b, Shape shape) {
        long start = DeviceAddress.of(a);
        long other = DeviceAddress.of(b);
        long bytes = bytes(shape);
        if (start != other && start < other + bytes && other < start + bytes) {
            throw new IllegalArgumentException(aName + " and " + bName + " partly overlap (" + (other - start)
                    + " bytes apart, " + bytes + " each): use the same pointer for in-place, or separate memory");
        }
    }

    private static long bytes(Shape shape) {
        return shape.elementCount() * Float.BYTES;
    }
}

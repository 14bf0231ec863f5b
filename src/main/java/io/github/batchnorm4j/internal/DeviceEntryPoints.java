package io.github.batchnorm4j.internal;

import io.github.batchnorm4j.Shape;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * What a backend that keeps the layer on a GPU offers beside the host-array calls: the three
 * operations on device memory the caller owns, on the caller's stream, and the device memory of
 * the layer's own state. {@link BatchNormBackend#device()} answers it, or null on the CPU. The
 * core claims the layer and checks the shape; an implementation checks every pointer (live
 * allocation, room for the tensor, no partial overlap) before it launches anything.
 */
public interface DeviceEntryPoints {
    void forwardTraining(LayerState state, Shape shape, CUdeviceptr x, CUdeviceptr y, CUstream stream);

    void forwardInference(LayerState state, Shape shape, CUdeviceptr x, CUdeviceptr y, CUstream stream);

    void backward(LayerState state, Shape shape, CUdeviceptr x, CUdeviceptr dy, CUdeviceptr dx, CUstream stream);

    /** The device memory of one member of the state (C floats), valid until the layer closes. */
    CUdeviceptr deviceMember(LayerState state, StateMember member);

    /** {launches, synchronizations, copies} this backend's calls have made so far. */
    long[] driverCalls();

    /** The members of a layer's state that live in device memory of their own. */
    enum StateMember {
        GAMMA, BETA, GAMMA_GRADIENT, BETA_GRADIENT, RUNNING_MEAN, RUNNING_VAR;

        /** Whether the member exists only on an affine layer (else: only on a tracking layer). */
        public boolean affine() {
            return this == GAMMA || this == BETA || this == GAMMA_GRADIENT || this == BETA_GRADIENT;
        }
    }
}

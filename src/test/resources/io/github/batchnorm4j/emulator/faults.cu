// Kernels with one defect each, for InterpreterChecksTest; launch them with 64 threads, one block.
// Regenerate: nvcc -ptx -arch=sm_75 -o faults.ptx faults.cu

// Each thread reads its left neighbour's slot; with sync = 0 the __syncthreads is skipped by all
// threads alike, which leaves a read-after-write race.
extern "C" __global__ void neighbour(const float* in, float* out, int sync) {
    __shared__ float s[64];
    int t = threadIdx.x;
    s[t] = in[t];
    if (sync) {
        __syncthreads();
    }
    out[t] = t > 0 ? s[t - 1] : 0.0f;
}

// Only the first warp writes its slots; every thread reads its own slot.
extern "C" __global__ void half_written(float* out) {
    __shared__ float s[64];
    int t = threadIdx.x;
    if (t < 32) {
        s[t] = 1.0f;
    }
    __syncthreads();
    out[t] = s[t];
}

// Reads s[t + offset]: out of the array (and of the block's shared memory) for a large offset.
extern "C" __global__ void indexed(float* out, int offset) {
    __shared__ float s[64];
    int t = threadIdx.x;
    s[t] = (float)t;
    __syncthreads();
    out[t] = s[t + offset];
}

// A barrier inside a branch only the first 16 threads take; the others reach the second one.
extern "C" __global__ void divergent_barrier(float* out) {
    __shared__ float s[64];
    int t = threadIdx.x;
    if (t < 16) {
        s[t] = 1.0f;
        __syncthreads();
    }
    s[t] = 2.0f;
    __syncthreads();
    out[t] = s[63 - t];
}

// A barrier only the first 16 threads reach; the others exit first.
extern "C" __global__ void early_exit_barrier(float* out) {
    int t = threadIdx.x;
    if (t >= 16) {
        return;
    }
    __syncthreads();
    out[t] = 1.0f;
}

// A full-warp shuffle after the upper half-warp has exited.
extern "C" __global__ void shuffle_after_exit(const int* in, int* out) {
    int t = threadIdx.x;
    if ((t & 31) >= 16) {
        return;
    }
    out[t] = __shfl_xor_sync(0xffffffffu, in[t], 1);
}

// Every lane shuffles with a mask naming only the lower half-warp.
extern "C" __global__ void shuffle_outside_mask(const int* in, int* out) {
    int t = threadIdx.x;
    out[t] = __shfl_xor_sync(0x0000ffffu, in[t], 1);
}

// Two threads of different warps increment one shared counter with a plain read-modify-write.
extern "C" __global__ void shared_counter(int* out) {
    __shared__ int counter;
    if (threadIdx.x == 0) {
        counter = 0;
    }
    __syncthreads();
    if (threadIdx.x == 0 || threadIdx.x == 40) {
        counter += 1;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        out[0] = counter;
    }
}

// The same increments done with atomicAdd: no race.
extern "C" __global__ void shared_atomic_counter(int* out) {
    __shared__ int counter;
    if (threadIdx.x == 0) {
        counter = 0;
    }
    __syncthreads();
    if (threadIdx.x == 0 || threadIdx.x == 40) {
        atomicAdd(&counter, 1);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        out[0] = counter;
    }
}

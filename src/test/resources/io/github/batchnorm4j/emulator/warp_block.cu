// Block-level kernels for InterpreterWarpBlockTest: reductions, shuffles, votes, float4 access,
// atomics and block ordering.
// Regenerate: nvcc -ptx -arch=sm_75 -o warp_block.ptx warp_block.cu

// Each block sums its blockDim.x (a multiple of 32, at most 1024) values: shared-memory tree down
// to 32, then shfl.xor. sums[blockIdx.x] = the block's sum.
extern "C" __global__ void block_sum(const int* values, int* sums) {
    __shared__ int partial[1024];
    int t = threadIdx.x;
    partial[t] = values[blockIdx.x * blockDim.x + t];
    __syncthreads();
    for (int stride = blockDim.x / 2; stride >= 32; stride /= 2) {
        if (t < stride) {
            partial[t] += partial[t + stride];
        }
        __syncthreads();
    }
    if (t < 32) {
        int v = partial[t];
        for (int offset = 16; offset > 0; offset >>= 1) {
            v += __shfl_xor_sync(0xffffffffu, v, offset);
        }
        if (t == 0) {
            sums[blockIdx.x] = v;
        }
    }
}

// Every shuffle mode, with sub-warp widths, and the votes; one warp per block.
extern "C" __global__ void shuffles(const int* values, int* out) {
    int lane = threadIdx.x;
    int v = values[lane];
    int k = 0;
    out[k++ * 32 + lane] = __shfl_up_sync(0xffffffffu, v, 3);
    out[k++ * 32 + lane] = __shfl_down_sync(0xffffffffu, v, 5);
    out[k++ * 32 + lane] = __shfl_sync(0xffffffffu, v, 7);
    out[k++ * 32 + lane] = __shfl_xor_sync(0xffffffffu, v, 9);
    out[k++ * 32 + lane] = __shfl_up_sync(0xffffffffu, v, 2, 8);
    out[k++ * 32 + lane] = __shfl_down_sync(0xffffffffu, v, 3, 16);
    out[k++ * 32 + lane] = __shfl_sync(0xffffffffu, v, lane + 1, 4);
    out[k++ * 32 + lane] = __ballot_sync(0xffffffffu, v > 10);
    out[k++ * 32 + lane] = __all_sync(0xffffffffu, v >= 0);
    out[k++ * 32 + lane] = __any_sync(0xffffffffu, v > 30);
}

// y = scale * x with float4 loads and stores; n4 = number of float4.
extern "C" __global__ void scale4(const float4* x, float4* y, float scale, int n4) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n4) {
        float4 v = x[i];
        v.x *= scale;
        v.y *= scale;
        v.z *= scale;
        v.w *= scale;
        y[i] = v;
    }
}

// Thread 0 of each block takes a ticket: order[ticket] = block. counter starts at 0.
extern "C" __global__ void block_order(unsigned* counter, int* order) {
    if (threadIdx.x == 0) {
        unsigned ticket = atomicAdd(counter, 1u);
        order[ticket] = blockIdx.x;
    }
}

// Shared atomics: a histogram of values % 16 per block, then added to the global one.
extern "C" __global__ void histogram(const int* values, int n, unsigned* bins) {
    __shared__ unsigned local[16];
    if (threadIdx.x < 16) {
        local[threadIdx.x] = 0;
    }
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        atomicAdd(&local[values[i] & 15], 1u);
    }
    __syncthreads();
    if (threadIdx.x < 16) {
        atomicAdd(&bins[threadIdx.x], local[threadIdx.x]);
    }
}

// Spins forever unless stop[0] != 0: for the instruction budget.
extern "C" __global__ void spin(const volatile int* stop, int* out) {
    int n = 0;
    while (stop[0] == 0) {
        n++;
    }
    out[0] = n;
}

// Kernels with a known defect each, for the global-memory checks of the emulated GPU
// (EmulatedGpuChecksTest). Regenerate the PTX with:
//   nvcc -ptx -arch=sm_75 -o global_checks.ptx global_checks.cu && sed -i 's/^\.version .*/.version 6.3/' global_checks.ptx

// p[i] = 1: out of bounds when i is past the allocation.
extern "C" __global__ void store_at(float* p, long long i) {
    p[i] = 1.0f;
}

// out[0..3] = in[0..3] through one float4 load: misaligned when in is not 16-byte aligned.
extern "C" __global__ void load_float4(const float* in, float* out) {
    float4 v = *reinterpret_cast<const float4*>(in);
    out[0] = v.x;
    out[1] = v.y;
    out[2] = v.z;
    out[3] = v.w;
}

// out[i] = in[i] for i < n, one thread per element.
extern "C" __global__ void copy_floats(const float* in, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = in[i];
    }
}

// Every block writes p[0]: a write-write race between blocks.
extern "C" __global__ void every_block_writes_one_word(float* p) {
    if (threadIdx.x == 0) {
        p[0] = (float)blockIdx.x;
    }
}

// Each block writes its partial; the last block to finish sums them. fences bit 0: the writer's
// __threadfence before the atomic (release); bit 1: the last block's after it (acquire). Without
// either, nothing orders the partials before the last block reads them.
extern "C" __global__ void sum_in_last_block(float* partial, unsigned int* done, float* out, int fences) {
    __shared__ bool last;
    if (threadIdx.x == 0) {
        partial[blockIdx.x] = (float)(blockIdx.x + 1);
        if (fences & 1) {
            __threadfence();
        }
        last = atomicAdd(done, 1u) == gridDim.x - 1;
        if (last && (fences & 2)) {
            __threadfence();
        }
    }
    __syncthreads();
    if (last && threadIdx.x == 0) {
        float total = 0;
        for (unsigned int b = 0; b < gridDim.x; b++) {
            total += __ldcg(&partial[b]);
        }
        out[0] = total;
        *done = 0;
    }
}

// Block 0 reads p[0], block 1 overwrites it: a write-after-read race between blocks (one block
// alone is clean).
extern "C" __global__ void other_block_overwrites_a_read(float* p, float* out) {
    if (threadIdx.x == 0) {
        if (blockIdx.x == 0) {
            out[0] = p[0];
        } else {
            p[0] = 2.0f;
        }
    }
}

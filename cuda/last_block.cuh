// last_block_to_finish: which block of a grid finishes last, so it can finish the grid's work
// (finalize_statistics.cuh, finalize_backward.cuh) without another launch.
#pragma once

// Every thread of the block must call it, after its own writes of the block's results. The
// first fence releases those writes to the whole device before the block is counted. The atomic
// is relaxed, so the thread that finds its block last fences again before anything reads the
// other blocks' results (the acquire side; PTX memory model), and the barrier then passes that
// order to the rest of the block. blocks_done is 0 before the launch and again after it (the
// last block resets it), so the next launch on the stream starts from 0.
__device__ __forceinline__ bool last_block_to_finish(unsigned int* blocks_done) {
    __shared__ bool last;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0 && threadIdx.y == 0) {
        unsigned int blocks = gridDim.x * gridDim.y;
        last = atomicAdd(blocks_done, 1u) == blocks - 1;
        if (last) {
            __threadfence(); // acquire: the other blocks' released results are read after this
            *blocks_done = 0;
        }
    }
    __syncthreads();
    return last;
}

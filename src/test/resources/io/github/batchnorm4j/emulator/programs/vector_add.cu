// The kernel of VectorAddProgram (ProgramsOnTheEmulatorTest): a JCuda program of our own, not a
// part of batchnorm4j, that the emulated GPU must run as a real one would.
// Regenerate: nvcc -ptx -arch=sm_75 -o vector_add.ptx vector_add.cu && sed -i 's/^\.version .*/.version 6.3/' vector_add.ptx

// c[i] = a[i] + b[i] for i < n, one thread per element.
extern "C" __global__ void vector_add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        c[i] = a[i] + b[i];
    }
}

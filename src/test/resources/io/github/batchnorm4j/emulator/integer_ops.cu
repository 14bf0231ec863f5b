// Integer arithmetic for InterpreterArithmeticTest: out[k * n + i] is operation k of a[i], b[i].
// Regenerate: nvcc -ptx -arch=sm_75 -o integer_ops.ptx integer_ops.cu

__device__ __forceinline__ int bfe_s32(int a, unsigned pos, unsigned len) {
    int d;
    asm("bfe.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(pos), "r"(len));
    return d;
}

__device__ __forceinline__ unsigned bfe_u32(unsigned a, unsigned pos, unsigned len) {
    unsigned d;
    asm("bfe.u32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(pos), "r"(len));
    return d;
}

__device__ __forceinline__ unsigned bfi_b32(unsigned a, unsigned b, unsigned pos, unsigned len) {
    unsigned d;
    asm("bfi.b32 %0, %1, %2, %3, %4;" : "=r"(d) : "r"(a), "r"(b), "r"(pos), "r"(len));
    return d;
}

__device__ __forceinline__ unsigned div_u32(unsigned a, unsigned b) {
    unsigned d;
    asm("div.u32 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
}

__device__ __forceinline__ unsigned rem_u32(unsigned a, unsigned b) {
    unsigned d;
    asm("rem.u32 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
}

extern "C" __global__ void int32_ops(const int* a, const int* b, int* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    int x = a[i];
    int y = b[i];
    unsigned ux = x;
    unsigned uy = y;
    int k = 0;
    out[k++ * n + i] = x + y;
    out[k++ * n + i] = x - y;
    out[k++ * n + i] = x * y;
    out[k++ * n + i] = y != 0 && !(x == (int)0x80000000 && y == -1) ? x / y : 0;
    out[k++ * n + i] = y != 0 && !(x == (int)0x80000000 && y == -1) ? x % y : 0;
    out[k++ * n + i] = div_u32(ux, uy);
    out[k++ * n + i] = rem_u32(ux, uy);
    out[k++ * n + i] = min(x, y);
    out[k++ * n + i] = max(x, y);
    out[k++ * n + i] = min(ux, uy);
    out[k++ * n + i] = max(ux, uy);
    out[k++ * n + i] = abs(x);
    out[k++ * n + i] = x >> (y & 31);
    out[k++ * n + i] = ux >> (uy & 31);
    out[k++ * n + i] = x << (y & 31);
    out[k++ * n + i] = __mulhi(x, y);
    out[k++ * n + i] = __umulhi(ux, uy);
    out[k++ * n + i] = __popc(ux);
    out[k++ * n + i] = __clz(x);
    out[k++ * n + i] = __brev(ux);
    out[k++ * n + i] = (x & y) ^ (x | ~y);
    out[k++ * n + i] = __byte_perm(ux, uy, 0x5140u);
    out[k++ * n + i] = (x < y) + 2 * (ux < uy) + 4 * (x >= y) + 8 * (ux >= uy) + 16 * (x == y);
    out[k++ * n + i] = __sad(x, y, 7u);
    out[k++ * n + i] = __mul24(x, y);
    out[k++ * n + i] = __ffs(x);
    out[k++ * n + i] = bfe_s32(x, uy & 31, (uy >> 8) & 31);
    out[k++ * n + i] = bfe_u32(ux, uy & 31, (uy >> 8) & 31);
    out[k++ * n + i] = bfi_b32(ux, uy, (ux >> 5) & 31, (uy >> 13) & 31);
    out[k++ * n + i] = (int)(signed char)x + (int)(short)y + (int)(unsigned char)y;
    out[k++ * n + i] = __hadd(x, y);
    out[k++ * n + i] = __rhadd(x, y);
}

extern "C" __global__ void int64_ops(const long long* a, const long long* b, long long* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    long long x = a[i];
    long long y = b[i];
    unsigned long long ux = x;
    unsigned long long uy = y;
    int k = 0;
    out[k++ * n + i] = x + y;
    out[k++ * n + i] = x - y;
    out[k++ * n + i] = x * y;
    out[k++ * n + i] = y != 0 && !(x == (long long)0x8000000000000000ull && y == -1) ? x / y : 0;
    out[k++ * n + i] = y != 0 && !(x == (long long)0x8000000000000000ull && y == -1) ? x % y : 0;
    out[k++ * n + i] = uy != 0 ? ux / uy : 0;
    out[k++ * n + i] = uy != 0 ? ux % uy : 0;
    out[k++ * n + i] = min(x, y);
    out[k++ * n + i] = max(x, y);
    out[k++ * n + i] = min(ux, uy);
    out[k++ * n + i] = max(ux, uy);
    out[k++ * n + i] = llabs(x);
    out[k++ * n + i] = x >> (y & 63);
    out[k++ * n + i] = ux >> (uy & 63);
    out[k++ * n + i] = x << (y & 63);
    out[k++ * n + i] = __mul64hi(x, y);
    out[k++ * n + i] = __umul64hi(ux, uy);
    out[k++ * n + i] = __popcll(ux);
    out[k++ * n + i] = __clzll(x);
    out[k++ * n + i] = __brevll(ux);
    out[k++ * n + i] = (long long)(int)x * (long long)(int)y;
    out[k++ * n + i] = (unsigned long long)(unsigned)x * (unsigned long long)(unsigned)y;
    out[k++ * n + i] = (x < y) + 2 * (ux < uy) + 4 * (x >= y) + 8 * (ux >= uy) + 16 * (x == y);
    out[k++ * n + i] = (long long)(int)x + (long long)(unsigned)y;
}

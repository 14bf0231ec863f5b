// Instruction forms nvcc seldom emits for plain C++, written as inline PTX, for ExtraOpsTest.
// One thread; out[k] is result k.
// Regenerate: nvcc -ptx -arch=sm_75 -o extra_ops.ptx extra_ops.cu

__device__ __forceinline__ unsigned shift_ops(unsigned a, int k) {
    unsigned r;
    switch (k) {
        case 0: asm("shr.u32 %0, %1, 40;" : "=r"(r) : "r"(a)); break;
        case 1: asm("shl.b32 %0, %1, 33;" : "=r"(r) : "r"(a)); break;
        default: asm("shr.s32 %0, %1, 100;" : "=r"(r) : "r"(a)); break;
    }
    return r;
}

extern "C" __global__ void extra_ops(const signed char* bytes, const short* halves, int* out) {
    __shared__ float staged[8];
    int k = 0;
    int v;
    asm volatile("ld.global.s8 %0, [%1];" : "=r"(v) : "l"(bytes));
    out[k++] = v;
    asm volatile("ld.global.u8 %0, [%1];" : "=r"(v) : "l"(bytes));
    out[k++] = v;
    asm volatile("ld.global.s16 %0, [%1];" : "=r"(v) : "l"(halves));
    out[k++] = v;
    unsigned a = (unsigned)v;
    out[k++] = shift_ops(a, 0);
    out[k++] = shift_ops(a, 1);
    out[k++] = shift_ops(a, 2);
    asm("cvt.sat.s8.s32 %0, %1;" : "=r"(v) : "r"(1000));
    out[k++] = v;
    asm("cvt.sat.u16.s32 %0, %1;" : "=r"(v) : "r"(-5));
    out[k++] = v;
    asm("lop3.b32 %0, %1, %2, %3, 0x96;" : "=r"(v) : "r"(0x0F0F00FF), "r"(0x00FF0F0F), "r"(0x12345678));
    out[k++] = v;
    asm("mad.hi.u32 %0, %1, %2, %3;" : "=r"(v) : "r"(0xFFFFFFF0u), "r"(0x10000u), "r"(5));
    out[k++] = v;
    asm("{ .reg .pred p; testp.subnormal.f32 p, %1; selp.s32 %0, 1, 0, p; }" : "=r"(v) : "f"(1e-40f));
    out[k++] = v;
    asm("{ .reg .pred p; testp.normal.f32 p, %1; selp.s32 %0, 1, 0, p; }" : "=r"(v) : "f"(1e-40f));
    out[k++] = v;
    asm("bfind.u32 %0, %1;" : "=r"(v) : "r"(0x00012345));
    out[k++] = v;
    asm("bfind.s32 %0, %1;" : "=r"(v) : "r"(-2));
    out[k++] = v;
    asm("{ .reg .pred p; vote.sync.uni.pred p, 1, 1; selp.s32 %0, 1, 0, p; }" : "=r"(v));
    out[k++] = v;
    // A generic pointer into shared memory, written and read through the generic window.
    unsigned long long generic;
    unsigned long long base = __cvta_generic_to_shared(staged); // a .shared address
    staged[threadIdx.x] = 2.5f;
    asm volatile("cvta.shared.u64 %0, %1;" : "=l"(generic) : "l"(base));
    float f;
    asm volatile("st.f32 [%0+4], %1;" :: "l"(generic), "f"(7.5f));
    asm volatile("ld.f32 %0, [%1+4];" : "=f"(f) : "l"(generic));
    out[k++] = (int)f;
    asm volatile("st.shared.v2.f32 [%0], {%1, %2};" :: "l"(base + 8), "f"(1.0f), "f"(2.0f));
    float g, h;
    asm volatile("ld.shared.v2.f32 {%0, %1}, [%2];" : "=f"(g), "=f"(h) : "l"(base + 8));
    out[k++] = (int)(g + 10 * h);
    int old;
    asm volatile("atom.shared.exch.b32 %0, [%1], %2;" : "=r"(old) : "l"(base), "r"(99));
    out[k++] = old;
    asm volatile("atom.shared.cas.b32 %0, [%1], %2, %3;" : "=r"(old)
                 : "l"(base), "r"(99), "r"(123));
    out[k++] = old;
    asm volatile("ld.shared.u32 %0, [%1];" : "=r"(old) : "l"(base));
    out[k++] = old;
    asm volatile("red.global.add.u32 [%0], 5;" :: "l"(out + k));
}

// A dynamically indexed array lives in .local memory (the __local_depot).
extern "C" __global__ void local_array(const int* index, int* out) {
    int a[16];
    for (int i = 0; i < 16; i++) {
        a[i] = i * i + threadIdx.x;
    }
    a[index[threadIdx.x] & 15] += 1000;
    out[threadIdx.x] = a[index[threadIdx.x + 32] & 15];
}

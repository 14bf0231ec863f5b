// Floating-point arithmetic, conversions and compares for InterpreterArithmeticTest:
// out[k * n + i] is result k for element i.
// Regenerate: nvcc -ptx -arch=sm_75 -o float_ops.ptx float_ops.cu

__device__ __forceinline__ float add_ftz(float a, float b) {
    float d;
    asm("add.ftz.f32 %0, %1, %2;" : "=f"(d) : "f"(a), "f"(b));
    return d;
}

__device__ __forceinline__ float min_ftz(float a, float b) {
    float d;
    asm("min.ftz.f32 %0, %1, %2;" : "=f"(d) : "f"(a), "f"(b));
    return d;
}

extern "C" __global__ void f32_ops(const float* a, const float* b, const float* c, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    float x = a[i];
    float y = b[i];
    float z = c[i];
    int k = 0;
    out[k++ * n + i] = x + y;
    out[k++ * n + i] = x - y;
    out[k++ * n + i] = x * y;
    out[k++ * n + i] = x / y;
    out[k++ * n + i] = __fmaf_rn(x, y, z);
    out[k++ * n + i] = __fmul_rn(x, y) + z;
    out[k++ * n + i] = sqrtf(x);
    out[k++ * n + i] = __fadd_rz(x, y);
    out[k++ * n + i] = __fadd_ru(x, y);
    out[k++ * n + i] = __fadd_rd(x, y);
    out[k++ * n + i] = __fmul_rz(x, y);
    out[k++ * n + i] = __fmul_ru(x, y);
    out[k++ * n + i] = __fmul_rd(x, y);
    out[k++ * n + i] = __fdiv_rz(x, y);
    out[k++ * n + i] = __fdiv_ru(x, y);
    out[k++ * n + i] = __fdiv_rd(x, y);
    out[k++ * n + i] = __fsqrt_rz(x);
    out[k++ * n + i] = __fsqrt_ru(x);
    out[k++ * n + i] = __fmaf_rz(x, y, z);
    out[k++ * n + i] = __fmaf_rd(x, y, z);
    out[k++ * n + i] = __frcp_rn(x);
    out[k++ * n + i] = __frcp_rz(x);
    out[k++ * n + i] = fminf(x, y);
    out[k++ * n + i] = fmaxf(x, y);
    out[k++ * n + i] = fabsf(x);
    out[k++ * n + i] = -x;
    out[k++ * n + i] = __saturatef(x);
    out[k++ * n + i] = copysignf(x, y);
    out[k++ * n + i] = add_ftz(x, y);
    out[k++ * n + i] = min_ftz(x, y);
}

extern "C" __global__ void f64_ops(const double* a, const double* b, const double* c, double* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    double x = a[i];
    double y = b[i];
    double z = c[i];
    int k = 0;
    out[k++ * n + i] = x + y;
    out[k++ * n + i] = x - y;
    out[k++ * n + i] = x * y;
    out[k++ * n + i] = x / y;
    out[k++ * n + i] = __fma_rn(x, y, z);
    out[k++ * n + i] = __dmul_rn(x, y) + z;
    out[k++ * n + i] = sqrt(x);
    out[k++ * n + i] = __drcp_rn(x);
    out[k++ * n + i] = __dadd_rz(x, y);
    out[k++ * n + i] = __dadd_ru(x, y);
    out[k++ * n + i] = __dmul_rd(x, y);
    out[k++ * n + i] = __ddiv_rz(x, y);
    out[k++ * n + i] = __ddiv_ru(x, y);
    out[k++ * n + i] = __dsqrt_rd(x);
    out[k++ * n + i] = __fma_rz(x, y, z);
    out[k++ * n + i] = fmin(x, y);
    out[k++ * n + i] = fmax(x, y);
    out[k++ * n + i] = fabs(x);
}

// Conversions of a float and a double input, as 64-bit integers or raw bits.
extern "C" __global__ void conversions(const float* f, const double* d, const long long* l, long long* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    float x = f[i];
    double y = d[i];
    long long v = l[i];
    int k = 0;
    out[k++ * n + i] = __float2int_rn(x);
    out[k++ * n + i] = __float2int_rz(x);
    out[k++ * n + i] = __float2int_rd(x);
    out[k++ * n + i] = __float2int_ru(x);
    out[k++ * n + i] = __float2uint_rn(x);
    out[k++ * n + i] = __float2ll_rz(x);
    out[k++ * n + i] = (long long)__float2ull_rn(x);
    out[k++ * n + i] = __double2int_rn(y);
    out[k++ * n + i] = __double2ll_rd(y);
    out[k++ * n + i] = (long long)__double2ull_ru(y);
    out[k++ * n + i] = __float_as_int(__double2float_rn(y));
    out[k++ * n + i] = __float_as_int(__double2float_rz(y));
    out[k++ * n + i] = __float_as_int(__double2float_rd(y));
    out[k++ * n + i] = __float_as_int(__double2float_ru(y));
    out[k++ * n + i] = __double_as_longlong((double)x);
    out[k++ * n + i] = __float_as_int(__int2float_rn((int)v));
    out[k++ * n + i] = __float_as_int(__int2float_rz((int)v));
    out[k++ * n + i] = __float_as_int(__uint2float_ru((unsigned)v));
    out[k++ * n + i] = __float_as_int(__ll2float_rn(v));
    out[k++ * n + i] = __float_as_int(__ull2float_rd((unsigned long long)v));
    out[k++ * n + i] = __double_as_longlong(__ll2double_rn(v));
    out[k++ * n + i] = __double_as_longlong(__ull2double_rn((unsigned long long)v));
    out[k++ * n + i] = __double_as_longlong(__ll2double_rz(v));
    out[k++ * n + i] = __float_as_int(rintf(x));
    out[k++ * n + i] = __float_as_int(truncf(x));
    out[k++ * n + i] = __float_as_int(floorf(x));
    out[k++ * n + i] = __double_as_longlong(ceil(y));
}

// Compares, NaN included: one bit per operator.
extern "C" __global__ void compares(const float* a, const float* b, const double* c, const double* d, int* out,
                                    int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    float x = a[i];
    float y = b[i];
    double u = c[i];
    double v = d[i];
    out[2 * i] = (x < y) | (x <= y) << 1 | (x > y) << 2 | (x >= y) << 3 | (x == y) << 4 | (x != y) << 5
            | !(x < y) << 6 | !(x <= y) << 7 | !(x > y) << 8 | !(x >= y) << 9 | !(x == y) << 10
            | isnan(x) << 11 | isinf(x) << 12 | isfinite(x) << 13;
    out[2 * i + 1] = (u < v) | (u <= v) << 1 | (u > v) << 2 | (u >= v) << 3 | (u == v) << 4 | (u != v) << 5
            | !(u < v) << 6 | !(u <= v) << 7 | !(u > v) << 8 | !(u >= v) << 9 | !(u == v) << 10
            | isnan(u) << 11 | isinf(u) << 12 | isfinite(u) << 13;
}

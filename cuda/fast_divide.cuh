#pragma once
// Division by a divisor fixed for the launch, by multiplication: the host passes the multiplier
// m and l = ceil(log2 d) (FastDivisor.java: the derivation, and its test against division), and
// n / d = (t + ((n - t) >> min(l, 1))) >> max(l - 1, 0) with t = mulhi(m, n). A 64-bit division
// is a subroutine of tens of instructions; this is four, and no divide unit.

struct FastDivide {
    unsigned long long multiplier;
    int first;
    int second;
};

__device__ __forceinline__ FastDivide fast_divide(long long multiplier, int log) {
    FastDivide f;
    f.multiplier = (unsigned long long)multiplier;
    f.first = min(log, 1);
    f.second = max(log - 1, 0);
    return f;
}

// n / d for 0 <= n < 2^63.
__device__ __forceinline__ long long fast_quotient(long long n, FastDivide f) {
    unsigned long long u = (unsigned long long)n;
    unsigned long long t = __umul64hi(f.multiplier, u);
    return (long long)((t + ((u - t) >> f.first)) >> f.second);
}

// n % d for 0 <= n < 2^63.
__device__ __forceinline__ long long fast_remainder(long long n, FastDivide f, long long d) {
    return n - fast_quotient(n, f) * d;
}

// start / spatial for a block's first plane, divided once per block by thread 0 and shared, so
// the other threads spend no division. Every thread of the block must call it (a barrier).
__device__ __forceinline__ long long first_plane(long long start, long long spatial) {
    __shared__ long long plane;
    if (threadIdx.x == 0 && threadIdx.y == 0) {
        plane = start / spatial;
    }
    __syncthreads();
    return plane;
}

// float4 access is only legal on 16-byte aligned addresses. The layer's own buffers always are
// (cuMemAlloc aligns to 256 bytes), but pointers passed in by callers may sit at any float offset,
// so the kernels that vectorize check every pointer themselves and fall back to scalar access.
#pragma once

__device__ __forceinline__ bool aligned16(const void* p) {
    return (reinterpret_cast<unsigned long long>(p) & 15ull) == 0;
}

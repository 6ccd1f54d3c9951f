// Shared conventions of every kernel in csrc/kernels/.
//
// Kernels here are plain CUDA C++ with no torch headers, compiled three ways:
//   * by nvcc for the GPU (csrc/cuda/*.cu),
//   * by g++ against the CUDA emulation layer, to run on the CPU (csrc/emu/*.cpp, MT_EMULATED),
//   * by g++ with -fsanitize=thread for the race checker (tests/tsan/).
//
// Rules a kernel file follows so all three work:
//   * dynamic shared memory comes from mt::dynamic_shared<T>(), never `extern __shared__`;
//   * every kernel has a host function `<name>_config(...)` returning its mt::LaunchConfig, so the
//     GPU launcher and the emulator launch it with the same grid, block and shared-memory size;
//   * warp-level code uses the *_sync intrinsics with an explicit mask;
//   * tensor cores only through WMMA (nvcuda::wmma, which the emulator implements: emu/wmma.h), and
//     no inline PTX.
#pragma once

#ifdef MT_EMULATED
#include "emu/cuda_emu.h"  // with __half and __nv_bfloat16 (emu/half.h)
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#endif

#include <cstddef>

namespace mt {

constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;

struct LaunchConfig {
  dim3 grid;
  dim3 block;
  size_t shared_bytes;
};

inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

// The storage types T of the kernels, for float32, float16 and bfloat16 tensors: float, __half and
// __nv_bfloat16. The kernels compute in float32 whatever T is: loads convert to float, stores round back
// to T (to nearest, ties to even).
__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ void store(float* p, float x) { *p = x; }
__device__ __forceinline__ void store(__half* p, float x) { *p = __float2half(x); }
__device__ __forceinline__ void store(__nv_bfloat16* p, float x) { *p = __float2bfloat16(x); }

// Four consecutive elements, read or written as one 4 * sizeof(T)-byte access (16 bytes for float, 8 for
// the 16-bit types): the vector loads and stores of softmax v3, bias + GELU v2 and dropout v2.
template <typename T>
struct alignas(4 * sizeof(T)) Quad {
  T v[4];
};

// The block's dynamic shared memory (the third launch parameter), viewed as T.
template <typename T>
__device__ __forceinline__ T* dynamic_shared() {
#ifdef MT_EMULATED
  return reinterpret_cast<T*>(emu::dynamic_shared_memory());
#else
  extern __shared__ __align__(128) unsigned char mt_dynamic_shared_bytes[];  // WMMA tiles: 32 at least
  return reinterpret_cast<T*>(mt_dynamic_shared_bytes);
#endif
}

}  // namespace mt

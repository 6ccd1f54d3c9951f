// CUDA's built-in vector types, keywords and math intrinsics, as plain C++ for the emulator.
//
// Only what CUDA C++ spells differently from C++ lives here: dim3/uint3, float2/float4 and their
// make_* helpers, the function qualifiers (__global__, __device__, …, all no-ops on the CPU), and the
// device math functions (expf and fmaxf come from <math.h>; the fast-math __expf etc. map to them).
#pragma once
#include <math.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

// --- qualifiers: on the CPU every function is a host function and every block runs to completion ----
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
#define __constant__
// Blocks run one at a time, so a block's static shared memory can be a function-local static. The
// section lets the runtime fill every __shared__ variable with NaN before each block (runtime.h). GCC
// ignores the section of a static inside a function *template*: such arrays are not NaN-filled.
#define __shared__ static __attribute__((section("mt_emu_shared")))

struct uint3 {
  unsigned x, y, z;
};

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return {x, y, z}; }
  constexpr unsigned volume() const { return x * y * z; }
};

struct alignas(8) float2 {
  float x, y;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(8) int2 {
  int x, y;
};
struct alignas(16) int4 {
  int x, y, z, w;
};

inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }

inline constexpr int warpSize = 32;

// --- math: the fast intrinsics are exact here (a GPU's __expf has ~2 ulp error; results may differ) ---
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.f / sqrtf(x); }
inline float __saturatef(float x) { return fminf(fmaxf(x, 0.f), 1.f); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline int __popc(unsigned x) { return std::popcount(x); }
inline int __popcll(unsigned long long x) { return std::popcount(x); }
inline int __clz(unsigned x) { return std::countl_zero(x); }
inline int __ffs(unsigned x) { return x == 0 ? 0 : std::countr_zero(x) + 1; }
template <typename T>
inline T __ldg(const T* p) { return *p; }

// CUDA's overloaded min/max for integers (floats use fminf/fmaxf).
inline int min(int a, int b) { return std::min(a, b); }
inline int max(int a, int b) { return std::max(a, b); }
inline unsigned min(unsigned a, unsigned b) { return std::min(a, b); }
inline unsigned max(unsigned a, unsigned b) { return std::max(a, b); }
inline long long min(long long a, long long b) { return std::min(a, b); }
inline long long max(long long a, long long b) { return std::max(a, b); }

// dropout v2 — one thread per Philox call: four elements per thread, vector loads and stores.
//
// Changes over v1:
//   * each thread owns a group of four consecutive elements, 4g .. 4g + 3, and uses all four words of
//     Philox call g: a quarter of v1's arithmetic, the same bits;
//   * when the data is aligned to a Quad (kernels/common.cuh: a float4 for float), the group is one vector
//     load of x (and of the residual) and one vector store of y: one instruction per tensor instead of
//     four; a last partial group (n not a multiple of 4) or unaligned data goes element by element;
//   * a grid-stride loop: a bounded grid whatever n, each thread taking groups g, g + stride, … .
// Storage type T: float, __half or __nv_bfloat16, as in v1 (computed in float32, the same mask whatever T).
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/common.cuh"
#include "kernels/philox.cuh"

namespace mt {

template <typename T>
__global__ void dropout_v2_kernel(const T* __restrict__ x, const T* __restrict__ residual, T* __restrict__ y, int n,
                                  DropoutParams params) {
  const int groups = (n + 3) / 4;
  const bool aligned = reinterpret_cast<uintptr_t>(x) % sizeof(Quad<T>) == 0 &&
                       reinterpret_cast<uintptr_t>(y) % sizeof(Quad<T>) == 0 &&
                       reinterpret_cast<uintptr_t>(residual) % sizeof(Quad<T>) == 0;  // nullptr is aligned
  const bool with_residual = residual != nullptr;
  const uint64_t threshold = params.threshold;  // keep a word below it
  const float scale = float(params.scale);
  for (int g = blockIdx.x * blockDim.x + threadIdx.x; g < groups; g += gridDim.x * blockDim.x) {
    const PhiloxWords w = dropout_words(params, uint64_t(g));
    const int first = 4 * g;
    if (aligned && first + 4 <= n) {
      const Quad<T> v = reinterpret_cast<const Quad<T>*>(x)[g];
      const Quad<T> r = with_residual ? reinterpret_cast<const Quad<T>*>(residual)[g] : v;  // unread if none
      const bool keep[4] = {w.w0 < threshold, w.w1 < threshold, w.w2 < threshold, w.w3 < threshold};
      Quad<T> out;
      for (int k = 0; k < 4; ++k)
        store(&out.v[k], dropout_element(to_float(v.v[k]), to_float(r.v[k]), with_residual, keep[k], scale));
      reinterpret_cast<Quad<T>*>(y)[g] = out;
    } else {
      for (int i = first; i < min(first + 4, n); ++i) {
        const bool keep = philox_word(w, unsigned(i - first)) < threshold;
        store(&y[i], dropout_element(to_float(x[i]), with_residual ? to_float(residual[i]) : 0.f, with_residual, keep,
                                     scale));
      }
    }
  }
}

constexpr int kDropoutV2Threads = 256;
constexpr int kDropoutV2MaxBlocks = 1024;  // the grid-stride loop covers the rest

inline LaunchConfig dropout_v2_config(int n) {
  const int blocks = std::min(ceil_div(ceil_div(n, 4), kDropoutV2Threads), kDropoutV2MaxBlocks);
  return {dim3(blocks), dim3(kDropoutV2Threads), 0};
}

}  // namespace mt

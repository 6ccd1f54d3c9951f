// dropout v1 — one thread per element (the naive port of the CPU loop).
//
//   y_i = residual_i + x_i m_i / (1 - p),   m_i = [word_i < floor((1 - p) 2^32)]     (kernels/philox.cuh)
//
// The backward is this kernel too: dx = dy m / (1 - p) is the forward of dy with no residual, the mask
// recomputed from (seed, offset, i) instead of stored. Element i needs word i mod 4 of Philox call i / 4, so
// the four threads of a group each run the same 10-round call and keep one word of it: three quarters of
// the arithmetic is thrown away (v2 fixes that). Storage type T: float, __half or __nv_bfloat16, loaded to
// float32 and stored back (kernels/common.cuh); the mask depends on (seed, offset, i) alone, whatever T.
#pragma once
#include "kernels/common.cuh"
#include "kernels/philox.cuh"

namespace mt {

// residual may be nullptr (plain dropout); x, residual and y are contiguous with n elements.
template <typename T>
__global__ void dropout_v1_kernel(const T* __restrict__ x, const T* __restrict__ residual, T* __restrict__ y, int n,
                                  DropoutParams params) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const PhiloxWords words = dropout_words(params, uint64_t(i) / 4);
  const bool keep = uint64_t(philox_word(words, unsigned(i) % 4)) < params.threshold;
  const bool with_residual = residual != nullptr;
  store(&y[i], dropout_element(to_float(x[i]), with_residual ? to_float(residual[i]) : 0.f, with_residual, keep,
                               float(params.scale)));
}

inline LaunchConfig dropout_v1_config(int n) {
  const int threads = 256;
  return {dim3(ceil_div(n, threads)), dim3(threads), 0};
}

}  // namespace mt

// softmax v1 — one thread per row (the naive port of the CPU loop).
//
//   y_ij = exp(x_ij - m_i) / s_i,   m_i = max_j x_ij,   s_i = sum_j exp(x_ij - m_i)
//
// Each thread walks its own row three times: max, sum of exponentials, write. Traffic: 3 reads of x and
// one write of y per element. It is slow on a GPU for two reasons worth seeing: neighbouring threads
// read addresses `cols` elements apart (no coalescing: every load is its own memory transaction), and
// with `rows` threads the GPU is nearly idle when rows is small. A row whose entries are all -inf gives 0.
// Storage type T: float, __half or __nv_bfloat16, loaded to float32 and stored back (kernels/common.cuh).
#pragma once
#include "kernels/common.cuh"

namespace mt {

template <typename T>
__global__ void softmax_v1_kernel(const T* __restrict__ x, T* __restrict__ y, int rows, int cols) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= rows) return;
  const T* x_row = x + static_cast<size_t>(row) * cols;
  T* y_row = y + static_cast<size_t>(row) * cols;

  float row_max = -INFINITY;
  for (int j = 0; j < cols; ++j) row_max = fmaxf(row_max, to_float(x_row[j]));
  if (row_max == -INFINITY) {  // all -inf: no distribution; defined as zeros
    for (int j = 0; j < cols; ++j) store(&y_row[j], 0.f);
    return;
  }
  float row_sum = 0.f;
  for (int j = 0; j < cols; ++j) row_sum += expf(to_float(x_row[j]) - row_max);
  const float inv_sum = 1.f / row_sum;
  for (int j = 0; j < cols; ++j) store(&y_row[j], expf(to_float(x_row[j]) - row_max) * inv_sum);
}

inline LaunchConfig softmax_v1_config(int rows, int /*cols*/) {
  const int threads = 128;
  return {dim3(ceil_div(rows, threads)), dim3(threads), 0};
}

}  // namespace mt

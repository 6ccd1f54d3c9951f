// bias + GELU v1 — one thread per element; the bias gradient one thread per column.
//
//   forward:  y = gelu(x + b)                     backward: dx = dy gelu'(x + b),   db = sum_rows dx
//
// The element-wise kernels are already coalesced (thread i reads element i) and need no reduction; what
// v1 leaves on the table is the backward's second kernel, which reads all of dx back from memory to add
// its columns (thread c adds column c over every row, in order: deterministic), and the scalar loads.
// Storage type T: float, __half or __nv_bfloat16, loaded to float32 and stored back (kernels/common.cuh);
// db is a float32 sum, rounded once to T, of the dx read back (already rounded to T).
#pragma once
#include "kernels/bias_gelu_params.cuh"
#include "kernels/common.cuh"
#include "kernels/gelu.cuh"

namespace mt {

template <typename T>
__global__ void bias_gelu_v1_forward_kernel(BiasGeluArgs a) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(a.rows) * a.cols) return;
  const T *x = static_cast<const T*>(a.x), *bias = static_cast<const T*>(a.bias);
  store(static_cast<T*>(a.y) + i, gelu(to_float(x[i]) + to_float(bias[i % a.cols]), a.tanh_form));
}

template <typename T>
__global__ void bias_gelu_v1_backward_dx_kernel(BiasGeluArgs a) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(a.rows) * a.cols) return;
  const T *x = static_cast<const T*>(a.x), *bias = static_cast<const T*>(a.bias);
  const float dy = to_float(static_cast<const T*>(a.grad_y)[i]);
  store(static_cast<T*>(a.grad_x) + i, dy * gelu_derivative(to_float(x[i]) + to_float(bias[i % a.cols]), a.tanh_form));
}

template <typename T>
__global__ void bias_gelu_v1_backward_dbias_kernel(BiasGeluArgs a) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (col >= a.cols) return;
  const T* dx = static_cast<const T*>(a.grad_x);
  float sum = 0.f;
  for (int row = 0; row < a.rows; ++row) sum += to_float(dx[static_cast<size_t>(row) * a.cols + col]);
  store(static_cast<T*>(a.grad_bias) + col, sum);
}

constexpr int kBiasGeluV1Threads = 256;

inline LaunchConfig bias_gelu_v1_elements_config(const BiasGeluArgs& a) {
  const long long n = static_cast<long long>(a.rows) * a.cols;
  return {dim3(static_cast<unsigned>((n + kBiasGeluV1Threads - 1) / kBiasGeluV1Threads)), dim3(kBiasGeluV1Threads), 0};
}

inline LaunchConfig bias_gelu_v1_columns_config(const BiasGeluArgs& a) {
  return {dim3(ceil_div(a.cols, kBiasGeluV1Threads)), dim3(kBiasGeluV1Threads), 0};
}

}  // namespace mt

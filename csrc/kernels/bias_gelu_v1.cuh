// bias + GELU v1 — one thread per element; the bias gradient one thread per column.
//
//   forward:  y = gelu(x + b)                     backward: dx = dy gelu'(x + b),   db = sum_rows dx
//
// The element-wise kernels are already coalesced (thread i reads element i) and need no reduction; what
// v1 leaves on the table is the backward's second kernel, which reads all of dx back from memory to add
// its columns (thread c adds column c over every row, in order: deterministic), and the scalar loads.
#pragma once
#include "kernels/bias_gelu_params.cuh"
#include "kernels/common.cuh"
#include "kernels/gelu.cuh"

namespace mt {

__global__ void bias_gelu_v1_forward_kernel(BiasGeluArgs a) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(a.rows) * a.cols) return;
  a.y[i] = gelu(a.x[i] + a.bias[i % a.cols], a.tanh_form);
}

__global__ void bias_gelu_v1_backward_dx_kernel(BiasGeluArgs a) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(a.rows) * a.cols) return;
  a.grad_x[i] = a.grad_y[i] * gelu_derivative(a.x[i] + a.bias[i % a.cols], a.tanh_form);
}

__global__ void bias_gelu_v1_backward_dbias_kernel(BiasGeluArgs a) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (col >= a.cols) return;
  float sum = 0.f;
  for (int row = 0; row < a.rows; ++row) sum += a.grad_x[static_cast<size_t>(row) * a.cols + col];
  a.grad_bias[col] = sum;
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

// layer norm v1 — one thread per row (the naive port of the CPU loop); the parameter gradients one
// thread per column.
//
//   forward:  mu = mean(x),  rstd = 1 / sqrt(mean((x - mu)^2) + eps),  y = (x - mu) rstd gamma + beta
//   backward: g = dy gamma,  dx = rstd (g - mean(g) - xh mean(g xh)),  xh = (x - mu) rstd
//             dgamma = sum_rows dy xh,  dbeta = sum_rows dy
//
// Each thread walks its own row: three reads of x (mean, variance, write) in the forward, two of x and
// dy in the backward. Neighbouring threads read addresses `cols` elements apart, so no load is coalesced,
// and with one thread per row a (4096, 768) batch fills a few dozen warps of a GPU that wants thousands.
// The parameter gradients are a second kernel: thread c adds column c over every row in order (these
// loads are coalesced: neighbouring threads, neighbouring columns), so the sums are deterministic.
// Storage type T: float, __half or __nv_bfloat16, loaded to float32 and stored back (kernels/common.cuh);
// mean and rstd are float32, and so are the column sums, rounded once to T when stored.
#pragma once
#include "kernels/common.cuh"
#include "kernels/layer_norm_params.cuh"

namespace mt {

template <typename T>
__global__ void layer_norm_v1_forward_kernel(LayerNormArgs a) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.rows) return;
  const T* x = static_cast<const T*>(a.x) + static_cast<size_t>(row) * a.cols;
  const T *weight = static_cast<const T*>(a.weight), *bias = static_cast<const T*>(a.bias);
  T* y = static_cast<T*>(a.y) + static_cast<size_t>(row) * a.cols;
  float sum = 0.f;
  for (int j = 0; j < a.cols; ++j) sum += to_float(x[j]);
  const float mean = sum / a.cols;
  float squares = 0.f;
  for (int j = 0; j < a.cols; ++j) squares += (to_float(x[j]) - mean) * (to_float(x[j]) - mean);
  const float rstd = 1.f / sqrtf(squares / a.cols + a.eps);
  for (int j = 0; j < a.cols; ++j)
    store(&y[j], (to_float(x[j]) - mean) * rstd * to_float(weight[j]) + to_float(bias[j]));
  a.mean_out[row] = mean;
  a.rstd_out[row] = rstd;
}

template <typename T>
__global__ void layer_norm_v1_backward_dx_kernel(LayerNormArgs a) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.rows) return;
  const size_t start = static_cast<size_t>(row) * a.cols;
  const T *x = static_cast<const T*>(a.x) + start, *dy = static_cast<const T*>(a.grad_y) + start;
  const T* weight = static_cast<const T*>(a.weight);
  T* dx = static_cast<T*>(a.grad_x) + start;
  const float mean = a.mean[row], rstd = a.rstd[row];
  float sum_g = 0.f, sum_g_xh = 0.f;
  for (int j = 0; j < a.cols; ++j) {
    const float g = to_float(dy[j]) * to_float(weight[j]);
    sum_g += g;
    sum_g_xh += g * (to_float(x[j]) - mean) * rstd;
  }
  const float mean_g = sum_g / a.cols, mean_g_xh = sum_g_xh / a.cols;
  for (int j = 0; j < a.cols; ++j) {
    const float g = to_float(dy[j]) * to_float(weight[j]);
    store(&dx[j], rstd * (g - mean_g - (to_float(x[j]) - mean) * rstd * mean_g_xh));
  }
}

template <typename T>
__global__ void layer_norm_v1_backward_params_kernel(LayerNormArgs a) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (col >= a.cols) return;
  const T *x = static_cast<const T*>(a.x), *dy = static_cast<const T*>(a.grad_y);
  float dgamma = 0.f, dbeta = 0.f;
  for (int row = 0; row < a.rows; ++row) {
    const size_t i = static_cast<size_t>(row) * a.cols + col;
    dgamma += to_float(dy[i]) * (to_float(x[i]) - a.mean[row]) * a.rstd[row];
    dbeta += to_float(dy[i]);
  }
  store(static_cast<T*>(a.grad_weight) + col, dgamma);
  store(static_cast<T*>(a.grad_bias) + col, dbeta);
}

constexpr int kLayerNormV1Threads = 128;

inline LaunchConfig layer_norm_v1_rows_config(const LayerNormArgs& a) {
  return {dim3(ceil_div(a.rows, kLayerNormV1Threads)), dim3(kLayerNormV1Threads), 0};
}

inline LaunchConfig layer_norm_v1_params_config(const LayerNormArgs& a) {
  return {dim3(ceil_div(a.cols, kLayerNormV1Threads)), dim3(kLayerNormV1Threads), 0};
}

}  // namespace mt

// layer norm v2 — one warp per row with warp-shuffle reductions; the parameter gradients by 8 threads
// per column and a shared-memory reduction.
//
// Changes over v1:
//   * the 32 lanes of a warp share a row: lane l reads elements l, l + 32, …, so a warp's loads are
//     consecutive elements (coalesced), and a block of 8 warps normalises 8 rows;
//   * the row sums (mean and variance in the forward; sum g and sum g xh in the backward) are
//     reduce::warp_sum — 5 __shfl_xor_sync steps, no shared memory, no barrier;
//   * dgamma and dbeta: a block of 32 x 8 threads owns 32 columns; thread (c, t) adds rows t, t + 8, …
//     of column c, then the 8 partial sums meet in shared memory and are added in order (fixed, so the
//     bits do not depend on scheduling): 8 times v1's threads on these sums, each with an eighth of the rows.
// Storage type T: float, __half or __nv_bfloat16, as in v1 (float32 mean, rstd and sums; one rounding to T).
#pragma once
#include "kernels/common.cuh"
#include "kernels/layer_norm_params.cuh"
#include "kernels/row_reduce.cuh"

namespace mt {

constexpr int kLayerNormV2Warps = 8;  // rows per block in the row kernels; row groups in the params kernel

template <typename T>
__global__ void layer_norm_v2_forward_kernel(LayerNormArgs a) {
  const int lane = threadIdx.x % kWarpSize;
  const int row = blockIdx.x * kLayerNormV2Warps + threadIdx.x / kWarpSize;
  if (row >= a.rows) return;  // the whole warp: its shuffles name only its own lanes
  const T* x = static_cast<const T*>(a.x) + static_cast<size_t>(row) * a.cols;
  const T *weight = static_cast<const T*>(a.weight), *bias = static_cast<const T*>(a.bias);
  T* y = static_cast<T*>(a.y) + static_cast<size_t>(row) * a.cols;
  float sum = 0.f;
  for (int j = lane; j < a.cols; j += kWarpSize) sum += to_float(x[j]);
  const float mean = reduce::warp_sum(sum) / a.cols;
  float squares = 0.f;
  for (int j = lane; j < a.cols; j += kWarpSize) squares += (to_float(x[j]) - mean) * (to_float(x[j]) - mean);
  const float rstd = 1.f / sqrtf(reduce::warp_sum(squares) / a.cols + a.eps);
  for (int j = lane; j < a.cols; j += kWarpSize)
    store(&y[j], (to_float(x[j]) - mean) * rstd * to_float(weight[j]) + to_float(bias[j]));
  if (lane == 0) {
    a.mean_out[row] = mean;
    a.rstd_out[row] = rstd;
  }
}

template <typename T>
__global__ void layer_norm_v2_backward_dx_kernel(LayerNormArgs a) {
  const int lane = threadIdx.x % kWarpSize;
  const int row = blockIdx.x * kLayerNormV2Warps + threadIdx.x / kWarpSize;
  if (row >= a.rows) return;
  const size_t start = static_cast<size_t>(row) * a.cols;
  const T *x = static_cast<const T*>(a.x) + start, *dy = static_cast<const T*>(a.grad_y) + start;
  const T* weight = static_cast<const T*>(a.weight);
  T* dx = static_cast<T*>(a.grad_x) + start;
  const float mean = a.mean[row], rstd = a.rstd[row];
  float sum_g = 0.f, sum_g_xh = 0.f;
  for (int j = lane; j < a.cols; j += kWarpSize) {
    const float g = to_float(dy[j]) * to_float(weight[j]);
    sum_g += g;
    sum_g_xh += g * (to_float(x[j]) - mean) * rstd;
  }
  const float mean_g = reduce::warp_sum(sum_g) / a.cols, mean_g_xh = reduce::warp_sum(sum_g_xh) / a.cols;
  for (int j = lane; j < a.cols; j += kWarpSize) {
    const float g = to_float(dy[j]) * to_float(weight[j]);
    store(&dx[j], rstd * (g - mean_g - (to_float(x[j]) - mean) * rstd * mean_g_xh));
  }
}

// blockDim = (32, kLayerNormV2Warps): threadIdx.x picks the column, threadIdx.y the rows it adds.
template <typename T>
__global__ void layer_norm_v2_backward_params_kernel(LayerNormArgs a) {
  __shared__ float partial_dgamma[kLayerNormV2Warps][kWarpSize];
  __shared__ float partial_dbeta[kLayerNormV2Warps][kWarpSize];
  const int col = blockIdx.x * kWarpSize + threadIdx.x;
  const T *x = static_cast<const T*>(a.x), *dy = static_cast<const T*>(a.grad_y);
  float dgamma = 0.f, dbeta = 0.f;
  if (col < a.cols) {
    for (int row = threadIdx.y; row < a.rows; row += kLayerNormV2Warps) {
      const size_t i = static_cast<size_t>(row) * a.cols + col;
      dgamma += to_float(dy[i]) * (to_float(x[i]) - a.mean[row]) * a.rstd[row];
      dbeta += to_float(dy[i]);
    }
  }
  partial_dgamma[threadIdx.y][threadIdx.x] = dgamma;
  partial_dbeta[threadIdx.y][threadIdx.x] = dbeta;
  __syncthreads();
  if (threadIdx.y == 0 && col < a.cols) {
    float total_dgamma = 0.f, total_dbeta = 0.f;
    for (int t = 0; t < kLayerNormV2Warps; ++t) {
      total_dgamma += partial_dgamma[t][threadIdx.x];
      total_dbeta += partial_dbeta[t][threadIdx.x];
    }
    store(static_cast<T*>(a.grad_weight) + col, total_dgamma);
    store(static_cast<T*>(a.grad_bias) + col, total_dbeta);
  }
}

inline LaunchConfig layer_norm_v2_rows_config(const LayerNormArgs& a) {
  return {dim3(ceil_div(a.rows, kLayerNormV2Warps)), dim3(kLayerNormV2Warps * kWarpSize), 0};
}

inline LaunchConfig layer_norm_v2_params_config(const LayerNormArgs& a) {
  return {dim3(ceil_div(a.cols, kWarpSize)), dim3(kWarpSize, kLayerNormV2Warps), 0};
}

}  // namespace mt

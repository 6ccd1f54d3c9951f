// bias + GELU v2 — float4 loads in the forward; the backward fused into one kernel that writes dx and
// sums db in the same pass.
//
// Changes over v1:
//   * forward: each thread handles four consecutive elements with one float4 load of x, one of the bias and
//     one float4 store, when cols is a multiple of 4 and the data is 16-byte aligned (a group of four then
//     never straddles two rows); otherwise element by element. A grid-stride loop bounds the grid;
//   * backward: a block of 32 x 8 threads owns 32 columns; thread (c, t) walks rows t, t + 8, … of column
//     c, writes dx there and adds it to its partial db, so dx is never read back (v1 reads it again in a
//     second kernel). The 8 partial sums of a column meet in shared memory and are added in order: the
//     same bits on every run. A warp reads 32 consecutive floats of a row: coalesced.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/bias_gelu_params.cuh"
#include "kernels/common.cuh"
#include "kernels/gelu.cuh"

namespace mt {

constexpr int kBiasGeluV2Threads = 256;
constexpr int kBiasGeluV2MaxBlocks = 1024;  // the grid-stride loop covers the rest
constexpr int kBiasGeluV2RowGroups = 8;     // threads per column in the backward

__global__ void bias_gelu_v2_forward_kernel(BiasGeluArgs a) {
  const long long n = static_cast<long long>(a.rows) * a.cols;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  const long long first = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  const bool vectorised = a.cols % 4 == 0 && reinterpret_cast<uintptr_t>(a.x) % 16 == 0 &&
                          reinterpret_cast<uintptr_t>(a.bias) % 16 == 0 && reinterpret_cast<uintptr_t>(a.y) % 16 == 0;
  if (vectorised) {
    const float4* x4 = reinterpret_cast<const float4*>(a.x);
    const float4* b4 = reinterpret_cast<const float4*>(a.bias);
    float4* y4 = reinterpret_cast<float4*>(a.y);
    for (long long g = first; g < n / 4; g += stride) {
      const float4 v = x4[g], b = b4[g % (a.cols / 4)];
      y4[g] = make_float4(gelu(v.x + b.x, a.tanh_form), gelu(v.y + b.y, a.tanh_form), gelu(v.z + b.z, a.tanh_form),
                          gelu(v.w + b.w, a.tanh_form));
    }
  } else {
    for (long long i = first; i < n; i += stride) a.y[i] = gelu(a.x[i] + a.bias[i % a.cols], a.tanh_form);
  }
}

// blockDim = (32, kBiasGeluV2RowGroups): threadIdx.x picks the column, threadIdx.y the rows it walks.
__global__ void bias_gelu_v2_backward_kernel(BiasGeluArgs a) {
  __shared__ float partial[kBiasGeluV2RowGroups][kWarpSize];
  const int col = blockIdx.x * kWarpSize + threadIdx.x;
  float sum = 0.f;
  if (col < a.cols) {
    const float b = a.bias[col];
    for (int row = threadIdx.y; row < a.rows; row += kBiasGeluV2RowGroups) {
      const size_t i = static_cast<size_t>(row) * a.cols + col;
      const float dx = a.grad_y[i] * gelu_derivative(a.x[i] + b, a.tanh_form);
      a.grad_x[i] = dx;
      sum += dx;
    }
  }
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && col < a.cols) {
    float total = 0.f;
    for (int t = 0; t < kBiasGeluV2RowGroups; ++t) total += partial[t][threadIdx.x];
    a.grad_bias[col] = total;
  }
}

inline LaunchConfig bias_gelu_v2_forward_config(const BiasGeluArgs& a) {
  const long long groups = (static_cast<long long>(a.rows) * a.cols + 3) / 4;
  const long long blocks = std::min<long long>((groups + kBiasGeluV2Threads - 1) / kBiasGeluV2Threads,
                                               kBiasGeluV2MaxBlocks);
  return {dim3(static_cast<unsigned>(blocks)), dim3(kBiasGeluV2Threads), 0};
}

inline LaunchConfig bias_gelu_v2_backward_config(const BiasGeluArgs& a) {
  return {dim3(ceil_div(a.cols, kWarpSize)), dim3(kWarpSize, kBiasGeluV2RowGroups), 0};
}

}  // namespace mt

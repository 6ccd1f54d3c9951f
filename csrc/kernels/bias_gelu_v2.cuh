// bias + GELU v2 — vector loads in the forward; the backward fused into one kernel that writes dx and
// sums db in the same pass.
//
// Changes over v1:
//   * forward: each thread handles four consecutive elements with one vector load of x (Quad,
//     kernels/common.cuh: a float4 for float), one of the bias and one vector store, when cols is a
//     multiple of 4 and the data is aligned to a Quad (a group of four then never straddles two rows);
//     otherwise element by element. A grid-stride loop bounds the grid;
//   * backward: a block of 32 x 8 threads owns 32 columns; thread (c, t) walks rows t, t + 8, … of column
//     c, writes dx there and adds it to its partial db, so dx is never read back (v1 reads it again in a
//     second kernel). The 8 partial sums of a column meet in shared memory and are added in order: the
//     same bits on every run. A warp reads 32 consecutive elements of a row: coalesced.
// Storage type T: float, __half or __nv_bfloat16, loaded to float32 and stored back (kernels/common.cuh);
// db adds the float32 dx before their rounding, and is rounded once to T.
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

template <typename T>
__global__ void bias_gelu_v2_forward_kernel(BiasGeluArgs a) {
  const T *x = static_cast<const T*>(a.x), *bias = static_cast<const T*>(a.bias);
  T* y = static_cast<T*>(a.y);
  const long long n = static_cast<long long>(a.rows) * a.cols;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  const long long first = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  const bool vectorised = a.cols % 4 == 0 && reinterpret_cast<uintptr_t>(x) % sizeof(Quad<T>) == 0 &&
                          reinterpret_cast<uintptr_t>(bias) % sizeof(Quad<T>) == 0 &&
                          reinterpret_cast<uintptr_t>(y) % sizeof(Quad<T>) == 0;
  if (vectorised) {
    const Quad<T>* x4 = reinterpret_cast<const Quad<T>*>(x);
    const Quad<T>* b4 = reinterpret_cast<const Quad<T>*>(bias);
    Quad<T>* y4 = reinterpret_cast<Quad<T>*>(y);
    for (long long g = first; g < n / 4; g += stride) {
      const Quad<T> v = x4[g], b = b4[g % (a.cols / 4)];
      Quad<T> out;
      for (int k = 0; k < 4; ++k) store(&out.v[k], gelu(to_float(v.v[k]) + to_float(b.v[k]), a.tanh_form));
      y4[g] = out;
    }
  } else {
    for (long long i = first; i < n; i += stride)
      store(&y[i], gelu(to_float(x[i]) + to_float(bias[i % a.cols]), a.tanh_form));
  }
}

// blockDim = (32, kBiasGeluV2RowGroups): threadIdx.x picks the column, threadIdx.y the rows it walks.
template <typename T>
__global__ void bias_gelu_v2_backward_kernel(BiasGeluArgs a) {
  __shared__ float partial[kBiasGeluV2RowGroups][kWarpSize];
  const T *x = static_cast<const T*>(a.x), *dy = static_cast<const T*>(a.grad_y);
  T* grad_x = static_cast<T*>(a.grad_x);
  const int col = blockIdx.x * kWarpSize + threadIdx.x;
  float sum = 0.f;
  if (col < a.cols) {
    const float b = to_float(static_cast<const T*>(a.bias)[col]);
    for (int row = threadIdx.y; row < a.rows; row += kBiasGeluV2RowGroups) {
      const size_t i = static_cast<size_t>(row) * a.cols + col;
      const float dx = to_float(dy[i]) * gelu_derivative(to_float(x[i]) + b, a.tanh_form);
      store(&grad_x[i], dx);
      sum += dx;
    }
  }
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && col < a.cols) {
    float total = 0.f;
    for (int t = 0; t < kBiasGeluV2RowGroups; ++t) total += partial[t][threadIdx.x];
    store(static_cast<T*>(a.grad_bias) + col, total);
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

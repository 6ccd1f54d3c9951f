// softmax v3 — warp shuffles, vector loads and the online (single-pass) max/sum.
//
// Changes over v2:
//   * online softmax (Milakov & Gimelshein 2018, "Online normalizer calculation for softmax"): each
//     thread keeps a running pair (m, s) with s = sum exp(x - m), rescaling s when m grows, so the max
//     and the sum come from ONE read of the row instead of two: 2 reads + 1 write per element (v2: 3 + 1);
//   * the pairs are combined with __shfl_xor_sync inside each warp (no shared memory, no barrier),
//     then across the block's warps through 2 * (warps) floats of shared memory: 2 barriers per row
//     instead of 16;
//   * four elements per load and store when the row is aligned to them (Quad, kernels/common.cuh: a float4 for float).
// Storage type T: float, __half or __nv_bfloat16, loaded to float32 and stored back (kernels/common.cuh).
#pragma once
#include <cstdint>

#include "kernels/common.cuh"

namespace mt {

struct MaxSum {
  float max;  // running maximum m
  float sum;  // sum of exp(x - m) over the elements seen
};

// (m1, s1) (+) (m2, s2) = (m, s1 exp(m1 - m) + s2 exp(m2 - m)) with m = max(m1, m2).
__device__ __forceinline__ MaxSum combine(MaxSum a, MaxSum b) {
  const float m = fmaxf(a.max, b.max);
  if (m == -INFINITY) return {m, 0.f};  // both empty
  return {m, a.sum * expf(a.max - m) + b.sum * expf(b.max - m)};
}

// Fold a group of values whose maximum is group_max into the running pair.
__device__ __forceinline__ MaxSum add_values(MaxSum acc, const float* v, int n, float group_max) {
  const float m = fmaxf(acc.max, group_max);
  if (m == -INFINITY) return acc;
  float s = acc.sum * expf(acc.max - m);
  for (int i = 0; i < n; ++i) s += expf(v[i] - m);
  return {m, s};
}

__device__ __forceinline__ MaxSum warp_reduce(MaxSum v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    MaxSum other{__shfl_xor_sync(kFullMask, v.max, offset), __shfl_xor_sync(kFullMask, v.sum, offset)};
    v = combine(v, other);
  }
  return v;
}

constexpr int kSoftmaxV3Threads = 256;

template <typename T>
__global__ void softmax_v3_kernel(const T* __restrict__ x, T* __restrict__ y, int rows, int cols) {
  __shared__ float warp_max[kSoftmaxV3Threads / kWarpSize];
  __shared__ float warp_sum[kSoftmaxV3Threads / kWarpSize];
  const int row = blockIdx.x;
  const int lane = threadIdx.x % kWarpSize;
  const int warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  const T* x_row = x + static_cast<size_t>(row) * cols;
  T* y_row = y + static_cast<size_t>(row) * cols;
  const bool vectorised = cols % 4 == 0 && reinterpret_cast<uintptr_t>(x_row) % sizeof(Quad<T>) == 0 &&
                          reinterpret_cast<uintptr_t>(y_row) % sizeof(Quad<T>) == 0;

  // Pass 1: one read of the row, folding (max, sum) online.
  MaxSum acc{-INFINITY, 0.f};
  if (vectorised) {
    const Quad<T>* x4 = reinterpret_cast<const Quad<T>*>(x_row);
    for (int j = threadIdx.x; j < cols / 4; j += blockDim.x) {
      const Quad<T> q = x4[j];
      const float v[4] = {to_float(q.v[0]), to_float(q.v[1]), to_float(q.v[2]), to_float(q.v[3])};
      acc = add_values(acc, v, 4, fmaxf(fmaxf(v[0], v[1]), fmaxf(v[2], v[3])));
    }
  } else {
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
      const float v = to_float(x_row[j]);
      acc = add_values(acc, &v, 1, v);
    }
  }

  // Combine: inside each warp by shuffles, then the warps' results through shared memory.
  acc = warp_reduce(acc);
  if (lane == 0) {
    warp_max[warp] = acc.max;
    warp_sum[warp] = acc.sum;
  }
  __syncthreads();
  MaxSum total{-INFINITY, 0.f};
  for (int w = 0; w < warps; ++w) total = combine(total, {warp_max[w], warp_sum[w]});

  // Pass 2: write. A row of all -inf has max -inf (exp(-inf - -inf) would be NaN): defined as zeros.
  const bool empty_row = total.max == -INFINITY;
  const float row_max = empty_row ? 0.f : total.max;
  const float inv_sum = empty_row ? 0.f : 1.f / total.sum;
  if (vectorised) {
    const Quad<T>* x4 = reinterpret_cast<const Quad<T>*>(x_row);
    Quad<T>* y4 = reinterpret_cast<Quad<T>*>(y_row);
    for (int j = threadIdx.x; j < cols / 4; j += blockDim.x) {
      const Quad<T> q = x4[j];
      Quad<T> out;
      for (int i = 0; i < 4; ++i) store(&out.v[i], expf(to_float(q.v[i]) - row_max) * inv_sum);
      y4[j] = out;
    }
  } else {
    for (int j = threadIdx.x; j < cols; j += blockDim.x)
      store(&y_row[j], expf(to_float(x_row[j]) - row_max) * inv_sum);
  }
}

inline LaunchConfig softmax_v3_config(int rows, int /*cols*/) {
  return {dim3(rows), dim3(kSoftmaxV3Threads), 0};
}

}  // namespace mt

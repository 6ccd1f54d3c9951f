// softmax v3 — warp shuffles, float4 loads and the online (single-pass) max/sum.
//
// Changes over v2:
//   * online softmax (Milakov & Gimelshein 2018, "Online normalizer calculation for softmax"): each
//     thread keeps a running pair (m, s) with s = sum exp(x - m), rescaling s when m grows, so the max
//     and the sum come from ONE read of the row instead of two: 2 reads + 1 write per element (v2: 3 + 1);
//   * the pairs are combined with __shfl_xor_sync inside each warp (no shared memory, no barrier),
//     then across the block's warps through 2 * (warps) floats of shared memory: 2 barriers per row
//     instead of 16;
//   * float4 loads and stores when the row is 16-byte aligned (4 floats per instruction).
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

__global__ void softmax_v3_kernel(const float* __restrict__ x, float* __restrict__ y, int rows,
                                  int cols) {
  __shared__ float warp_max[kSoftmaxV3Threads / kWarpSize];
  __shared__ float warp_sum[kSoftmaxV3Threads / kWarpSize];
  const int row = blockIdx.x;
  const int lane = threadIdx.x % kWarpSize;
  const int warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  const float* x_row = x + static_cast<size_t>(row) * cols;
  float* y_row = y + static_cast<size_t>(row) * cols;
  const bool vectorised = cols % 4 == 0 && reinterpret_cast<uintptr_t>(x_row) % 16 == 0 &&
                          reinterpret_cast<uintptr_t>(y_row) % 16 == 0;

  // Pass 1: one read of the row, folding (max, sum) online.
  MaxSum acc{-INFINITY, 0.f};
  if (vectorised) {
    const float4* x4 = reinterpret_cast<const float4*>(x_row);
    for (int j = threadIdx.x; j < cols / 4; j += blockDim.x) {
      const float4 q = x4[j];
      const float v[4] = {q.x, q.y, q.z, q.w};
      acc = add_values(acc, v, 4, fmaxf(fmaxf(q.x, q.y), fmaxf(q.z, q.w)));
    }
  } else {
    for (int j = threadIdx.x; j < cols; j += blockDim.x) acc = add_values(acc, &x_row[j], 1, x_row[j]);
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
    const float4* x4 = reinterpret_cast<const float4*>(x_row);
    float4* y4 = reinterpret_cast<float4*>(y_row);
    for (int j = threadIdx.x; j < cols / 4; j += blockDim.x) {
      const float4 q = x4[j];
      y4[j] = make_float4(expf(q.x - row_max) * inv_sum, expf(q.y - row_max) * inv_sum,
                          expf(q.z - row_max) * inv_sum, expf(q.w - row_max) * inv_sum);
    }
  } else {
    for (int j = threadIdx.x; j < cols; j += blockDim.x) y_row[j] = expf(x_row[j] - row_max) * inv_sum;
  }
}

inline LaunchConfig softmax_v3_config(int rows, int /*cols*/) {
  return {dim3(rows), dim3(kSoftmaxV3Threads), 0};
}

}  // namespace mt

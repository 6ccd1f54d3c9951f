// Sums and maxima across a warp and across a block, for the row-wise kernels of the training ops
// (layer norm, cross-entropy). Every thread receives the result, and the additions happen in an order
// fixed by the launch shape alone, so a result is the same bits on every run.
//
//   warp: 5 steps of __shfl_xor_sync (a butterfly: after step k every group of 2^k lanes holds its sum,
//         the same bits in each lane, since a + b = b + a exactly);
//   block: each warp's result through shared memory, then every thread adds the warps' results in order.
#pragma once
#include "kernels/common.cuh"

namespace mt::reduce {

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

// scratch: blockDim.x / 32 floats of shared memory (blockDim.x a multiple of 32), free again on return.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  v = warp_sum(v);
  if (threadIdx.x % kWarpSize == 0) scratch[threadIdx.x / kWarpSize] = v;
  __syncthreads();
  float total = 0.f;
  for (int w = 0; w < static_cast<int>(blockDim.x) / kWarpSize; ++w) total += scratch[w];
  __syncthreads();  // the caller may reuse scratch
  return total;
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  v = warp_max(v);
  if (threadIdx.x % kWarpSize == 0) scratch[threadIdx.x / kWarpSize] = v;
  __syncthreads();
  float total = -INFINITY;
  for (int w = 0; w < static_cast<int>(blockDim.x) / kWarpSize; ++w) total = fmaxf(total, scratch[w]);
  __syncthreads();
  return total;
}

}  // namespace mt::reduce

// softmax backward — the Jacobian-vector product, one block per row.
//
//   dx_ij = y_ij (dy_ij - sum_k y_ik dy_ik)
//
// Two reads of y and dy and one write of dx per element. The row dot product sum_k y_ik dy_ik is reduced
// like softmax v3: __shfl_xor_sync inside warps, then the warps' partial sums through shared memory.
// Storage type T: float, __half or __nv_bfloat16, loaded to float32 and stored back (kernels/common.cuh).
#pragma once
#include "kernels/common.cuh"

namespace mt {

constexpr int kSoftmaxBackwardThreads = 256;

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

template <typename T>
__global__ void softmax_backward_kernel(const T* __restrict__ y, const T* __restrict__ dy, T* __restrict__ dx,
                                        int rows, int cols) {
  __shared__ float partial[kSoftmaxBackwardThreads / kWarpSize];
  const size_t offset = static_cast<size_t>(blockIdx.x) * cols;
  const int lane = threadIdx.x % kWarpSize;
  const int warp = threadIdx.x / kWarpSize;

  float dot = 0.f;
  for (int j = threadIdx.x; j < cols; j += blockDim.x) dot += to_float(y[offset + j]) * to_float(dy[offset + j]);
  dot = warp_sum(dot);
  if (lane == 0) partial[warp] = dot;
  __syncthreads();
  float row_dot = 0.f;
  for (int w = 0; w < static_cast<int>(blockDim.x) / kWarpSize; ++w) row_dot += partial[w];

  for (int j = threadIdx.x; j < cols; j += blockDim.x)
    store(&dx[offset + j], to_float(y[offset + j]) * (to_float(dy[offset + j]) - row_dot));
}

inline LaunchConfig softmax_backward_config(int rows, int /*cols*/) {
  return {dim3(rows), dim3(kSoftmaxBackwardThreads), 0};
}

}  // namespace mt

// BROKEN ON PURPOSE (tests only): one warp per row; the reduction uses __shfl_down_sync, which leaves
// the total in lane 0 only, but every lane then uses its own partial value as if it were the total (the
// missing step is a broadcast: v = __shfl_sync(kFullMask, v, 0)). A wrong result in every order.
#pragma once
#include "kernels/common.cuh"

namespace mt::broken {

__device__ float warp_reduce_to_lane0(float v, bool is_max) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    const float other = __shfl_down_sync(kFullMask, v, offset);
    v = is_max ? fmaxf(v, other) : v + other;
  }
  return v;  // BUG: correct in lane 0 only
}

__global__ void softmax_wrong_lane_kernel(const float* x, float* y, int rows, int cols) {
  const int lane = threadIdx.x;
  const float* x_row = x + static_cast<size_t>(blockIdx.x) * cols;
  float* y_row = y + static_cast<size_t>(blockIdx.x) * cols;
  float local_max = -INFINITY;
  for (int j = lane; j < cols; j += kWarpSize) local_max = fmaxf(local_max, x_row[j]);
  const float row_max = warp_reduce_to_lane0(local_max, true);
  float local_sum = 0.f;
  for (int j = lane; j < cols; j += kWarpSize) local_sum += expf(x_row[j] - row_max);
  const float inv_sum = 1.f / warp_reduce_to_lane0(local_sum, false);
  for (int j = lane; j < cols; j += kWarpSize) y_row[j] = expf(x_row[j] - row_max) * inv_sum;
}

inline LaunchConfig softmax_wrong_lane_config(int rows, int /*cols*/) {
  return {dim3(rows), dim3(kWarpSize), 0};
}

}  // namespace mt::broken

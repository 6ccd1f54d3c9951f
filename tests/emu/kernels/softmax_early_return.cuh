// BROKEN ON PURPOSE (tests only): one warp per row, and the lanes past the end of a short row return
// early, before the full-mask shuffles of the reduction. On a GPU, lanes named in a mask must execute the
// shuffle; a lane that has exited leaves the result undefined. The emulator raises an error naming the
// shuffle and the lane that returned, in every order. Rows of 32 or more columns are computed correctly.
#pragma once
#include "kernels/common.cuh"

namespace mt::broken {

__device__ float warp_all_reduce(float v, bool is_max) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    const float other = __shfl_xor_sync(kFullMask, v, offset);
    v = is_max ? fmaxf(v, other) : v + other;
  }
  return v;
}

__global__ void softmax_early_return_kernel(const float* x, float* y, int rows, int cols) {
  const int lane = threadIdx.x;
  if (lane >= cols) return;  // BUG: these lanes are still named in the shuffles' kFullMask
  const float* x_row = x + static_cast<size_t>(blockIdx.x) * cols;
  float* y_row = y + static_cast<size_t>(blockIdx.x) * cols;
  float local_max = -INFINITY;
  for (int j = lane; j < cols; j += kWarpSize) local_max = fmaxf(local_max, x_row[j]);
  const float row_max = warp_all_reduce(local_max, true);
  float local_sum = 0.f;
  for (int j = lane; j < cols; j += kWarpSize) local_sum += expf(x_row[j] - row_max);
  const float inv_sum = 1.f / warp_all_reduce(local_sum, false);
  for (int j = lane; j < cols; j += kWarpSize) y_row[j] = expf(x_row[j] - row_max) * inv_sum;
}

inline LaunchConfig softmax_early_return_config(int rows, int /*cols*/) {
  return {dim3(rows), dim3(kWarpSize), 0};
}

}  // namespace mt::broken

// BROKEN ON PURPOSE (tests only): softmax v2 with the barrier that protects the reduction scratch
// removed. After the max reduction every thread reads scratch[0]; without a __syncthreads before the sum
// reduction starts, a fast thread 0 overwrites scratch[0] with its partial sum while slower threads have
// yet to read the max. Which threads are "fast" is the scheduling order: the fibers' forward order (0
// runs first) gets it wrong, reverse order (0 runs last) happens to get it right, ThreadSanitizer
// reports the race. This is why the emulator runs several orders.
#pragma once
#include "kernels/common.cuh"

namespace mt::broken {

__device__ float block_reduce_racy(float value, float* scratch, bool is_max) {
  const int tid = threadIdx.x;
  scratch[tid] = value;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (tid < stride) {
      const float other = scratch[tid + stride];
      scratch[tid] = is_max ? fmaxf(scratch[tid], other) : scratch[tid] + other;
    }
    __syncthreads();
  }
  return scratch[0];  // BUG: no __syncthreads() before the caller reuses scratch
}

__global__ void softmax_missing_barrier_kernel(const float* x, float* y, int rows, int cols) {
  float* scratch = dynamic_shared<float>();  // (blockDim.x,)
  const float* x_row = x + static_cast<size_t>(blockIdx.x) * cols;
  float* y_row = y + static_cast<size_t>(blockIdx.x) * cols;
  float local_max = -INFINITY;
  for (int j = threadIdx.x; j < cols; j += blockDim.x) local_max = fmaxf(local_max, x_row[j]);
  const float row_max = block_reduce_racy(local_max, scratch, true);
  float local_sum = 0.f;
  for (int j = threadIdx.x; j < cols; j += blockDim.x) local_sum += expf(x_row[j] - row_max);
  const float inv_sum = 1.f / block_reduce_racy(local_sum, scratch, false);
  for (int j = threadIdx.x; j < cols; j += blockDim.x) y_row[j] = expf(x_row[j] - row_max) * inv_sum;
}

inline LaunchConfig softmax_missing_barrier_config(int rows, int /*cols*/) {
  return {dim3(rows), dim3(64), 64 * sizeof(float)};
}

}  // namespace mt::broken

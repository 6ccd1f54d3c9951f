// softmax v2 — one block per row, reductions through shared memory.
//
// Changes over v1: the 256 threads of a block share one row, so consecutive threads read consecutive
// floats (coalesced loads) and every row gets a whole block even when rows are few. The row max and the
// row sum are tree reductions in shared memory: log2(256) = 8 steps, each followed by __syncthreads.
// Traffic is unchanged (3 reads + 1 write per element) but each read is now a full-width transaction.
// What is left to win (v3): the 16 barriers per row and the second read pass. Storage type T: float,
// __half or __nv_bfloat16, loaded to float32 and stored back (kernels/common.cuh).
#pragma once
#include "kernels/common.cuh"

namespace mt {

// Reduce `value` over the block with `op`; every thread receives the result. scratch: blockDim.x floats.
template <typename Op>
__device__ float block_reduce_shared(float value, float* scratch, Op op) {
  const int tid = threadIdx.x;
  scratch[tid] = value;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (tid < stride) scratch[tid] = op(scratch[tid], scratch[tid + stride]);
    __syncthreads();
  }
  const float result = scratch[0];
  __syncthreads();  // scratch is reused by the next reduction
  return result;
}

struct MaxOp {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};

// blockDim.x must be a power of two (the tree reduction halves it).
template <typename T>
__global__ void softmax_v2_kernel(const T* __restrict__ x, T* __restrict__ y, int rows, int cols) {
  float* scratch = dynamic_shared<float>();  // (blockDim.x,)
  const int row = blockIdx.x;
  const T* x_row = x + static_cast<size_t>(row) * cols;
  T* y_row = y + static_cast<size_t>(row) * cols;

  float local_max = -INFINITY;
  for (int j = threadIdx.x; j < cols; j += blockDim.x) local_max = fmaxf(local_max, to_float(x_row[j]));
  const float row_max = block_reduce_shared(local_max, scratch, MaxOp{});

  if (row_max == -INFINITY) {  // all -inf: defined as zeros
    for (int j = threadIdx.x; j < cols; j += blockDim.x) store(&y_row[j], 0.f);
    return;
  }
  float local_sum = 0.f;
  for (int j = threadIdx.x; j < cols; j += blockDim.x) local_sum += expf(to_float(x_row[j]) - row_max);
  const float inv_sum = 1.f / block_reduce_shared(local_sum, scratch, SumOp{});

  for (int j = threadIdx.x; j < cols; j += blockDim.x)
    store(&y_row[j], expf(to_float(x_row[j]) - row_max) * inv_sum);
}

inline LaunchConfig softmax_v2_config(int rows, int /*cols*/) {
  const int threads = 256;
  return {dim3(rows), dim3(threads), threads * sizeof(float)};
}

}  // namespace mt

// Small kernels for the emulator's own tests (tests only): each breaks one synchronisation rule, or
// records what an intrinsic returned so a test can compare it with the CUDA semantics.
// All take (const float* x, float* y, int rows, int cols); most ignore some arguments.
#pragma once
#include "kernels/common.cuh"

namespace mt::checks {

// Threads 0..15 wait at one __syncthreads, the others at another.
__global__ void divergent_barrier_kernel(const float*, float* y, int, int) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  y[threadIdx.x] = 1.f;
}

// Thread 3 returns; the rest wait at a barrier it can never reach.
__global__ void barrier_after_return_kernel(const float*, float* y, int, int) {
  if (threadIdx.x == 3) return;
  __syncthreads();
  y[threadIdx.x] = 1.f;
}

// A block of 16 threads shuffles with a full mask: lanes 16..31 do not exist.
__global__ void absent_lane_kernel(const float* x, float* y, int, int) {
  y[threadIdx.x] = __shfl_xor_sync(kFullMask, x[threadIdx.x], 1);
}

// Lanes 0..15 shuffle among themselves but read lane 20, outside their mask.
__global__ void read_outside_mask_kernel(const float* x, float* y, int, int) {
  if (threadIdx.x < 16) y[threadIdx.x] = __shfl_sync(0x0000ffffu, x[threadIdx.x], 20);
}

// Thread 0 waits at __syncthreads while its warp waits for it at a shuffle: a deadlock.
__global__ void deadlock_kernel(const float* x, float* y, int, int) {
  float v = x[threadIdx.x];
  if (threadIdx.x == 0) {
    __syncthreads();
  } else {
    v = __shfl_xor_sync(kFullMask, v, 1);
    __syncthreads();
  }
  y[threadIdx.x] = v;
}

// Every lane shuffles with mask 0x1, which names lane 0 only.
__global__ void own_lane_outside_mask_kernel(const float* x, float* y, int, int) {
  y[threadIdx.x] = __shfl_sync(0x1u, x[threadIdx.x], 0);
}

// A shuffle width that is not a power of two.
__global__ void bad_width_kernel(const float* x, float* y, int, int) {
  y[threadIdx.x] = __shfl_xor_sync(kFullMask, x[threadIdx.x], 1, 3);
}

// Reads the dynamic shared memory without writing it first: NaN.
__global__ void read_unwritten_dynamic_kernel(const float*, float* y, int, int) {
  y[threadIdx.x] = dynamic_shared<float>()[threadIdx.x];
}

// Reads a static __shared__ array before writing it (every launch writes it afterwards): NaN each time.
__global__ void read_unwritten_static_kernel(const float*, float* y, int, int) {
  __shared__ float tile[64];
  y[threadIdx.x] = tile[threadIdx.x];
  __syncthreads();
  tile[threadIdx.x] = 1.f;
}

// Every intrinsic once; thread t writes its results to y[t * 12 + k]. x: one value per thread.
__global__ void intrinsics_kernel(const float* x, float* y, int, int) {
  const int t = threadIdx.x;
  const int lane = t % kWarpSize;
  const float v = x[t];
  float* out = y + t * 12;
  out[0] = __shfl_sync(kFullMask, v, 5);
  out[1] = __shfl_sync(kFullMask, v, lane + 3, 8);  // within segments of 8 lanes
  out[2] = __shfl_up_sync(kFullMask, v, 2);
  out[3] = __shfl_down_sync(kFullMask, v, 3, 16);
  out[4] = __shfl_xor_sync(kFullMask, v, 6);
  out[5] = static_cast<float>(__ballot_sync(kFullMask, v > 0.f) & 0xffffu);
  out[6] = static_cast<float>(__any_sync(kFullMask, v > 100.f));
  out[7] = static_cast<float>(__all_sync(kFullMask, v > -100.f));
  out[8] = static_cast<float>(__syncthreads_count(v > 0.f));
  out[9] = static_cast<float>(__syncthreads_and(v > 0.f));
  out[10] = static_cast<float>(__syncthreads_or(v > 0.f));
  __syncwarp();
  __shared__ int counter;
  if (t == 0) counter = 0;
  __syncthreads();
  atomicAdd(&counter, 1);
  __syncthreads();
  out[11] = static_cast<float>(counter);
}

}  // namespace mt::checks

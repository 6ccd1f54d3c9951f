// The cross-entropy ladder, in one place (kernels/ladder.cuh): every rung with its forward and backward
// kernel, each with the host function that gives its grid, block and shared memory. The CUDA launcher
// (csrc/cuda/cross_entropy_launch.cu) and the emulator (csrc/emu/cross_entropy.cpp) launch them from here;
// kernel_versions("cross_entropy") reports the versions.
//
// To add a rung: write cross_entropy_v3.cuh, include it below and add its line to kCrossEntropyLadder. The
// last line is the best kernel: the one the ops cross_entropy_forward and cross_entropy_backward run on CUDA.
#pragma once
#include "kernels/cross_entropy_v1.cuh"
#include "kernels/cross_entropy_v2.cuh"
#include "kernels/ladder.cuh"

namespace mt {

// One launch: kernel<<<config(args)>>>(args).
struct CrossEntropyKernel {
  const char* name;  // for the emulator's error messages
  void (*kernel)(CrossEntropyArgs);
  LaunchConfig (*config)(const CrossEntropyArgs&);
};

struct CrossEntropyRung {
  int version;
  CrossEntropyKernel forward;   // losses, row_max, log_sum
  CrossEntropyKernel backward;  // grad_logits
};

// The rungs for storage type T: float, __half or __nv_bfloat16.
template <typename T>
inline const CrossEntropyRung kCrossEntropyLadder[] = {
    {1,
     {"cross_entropy_v1_forward", cross_entropy_v1_forward_kernel<T>, cross_entropy_v1_config},
     {"cross_entropy_v1_backward", cross_entropy_v1_backward_kernel<T>, cross_entropy_v1_config}},
    {2,
     {"cross_entropy_v2_forward", cross_entropy_v2_forward_kernel<T>, cross_entropy_v2_config},
     {"cross_entropy_v2_backward", cross_entropy_v2_backward_kernel<T>, cross_entropy_v2_config}},
};

}  // namespace mt

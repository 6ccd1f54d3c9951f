// The bias + GELU ladder, in one place (kernels/ladder.cuh): every rung with its forward kernel and its
// backward kernels in launch order (one or two: dx, then db), each with the host function that gives its
// grid, block and shared memory. The CUDA launcher (csrc/cuda/bias_gelu_launch.cu) and the emulator
// (csrc/emu/bias_gelu.cpp) launch them from here; kernel_versions("bias_gelu") reports the versions.
//
// To add a rung: write bias_gelu_v3.cuh, include it below and add its line to kBiasGeluLadder. The last
// line is the best kernel: the one the ops bias_gelu_forward and bias_gelu_backward run on CUDA tensors.
#pragma once
#include "kernels/bias_gelu_v1.cuh"
#include "kernels/bias_gelu_v2.cuh"
#include "kernels/ladder.cuh"

namespace mt {

// One launch: kernel<<<config(args)>>>(args).
struct BiasGeluKernel {
  const char* name;  // for the emulator's error messages
  void (*kernel)(BiasGeluArgs);
  LaunchConfig (*config)(const BiasGeluArgs&);
};

struct BiasGeluRung {
  int version;
  BiasGeluKernel forward;
  BiasGeluKernel backward[2];  // launched in order; an unused one is {} (no kernel)
};

// The rungs for storage type T: float, __half or __nv_bfloat16.
template <typename T>
inline const BiasGeluRung kBiasGeluLadder[] = {
    {1,
     {"bias_gelu_v1_forward", bias_gelu_v1_forward_kernel<T>, bias_gelu_v1_elements_config},
     {{"bias_gelu_v1_backward_dx", bias_gelu_v1_backward_dx_kernel<T>, bias_gelu_v1_elements_config},
      {"bias_gelu_v1_backward_dbias", bias_gelu_v1_backward_dbias_kernel<T>, bias_gelu_v1_columns_config}}},
    {2,
     {"bias_gelu_v2_forward", bias_gelu_v2_forward_kernel<T>, bias_gelu_v2_forward_config},
     {{"bias_gelu_v2_backward", bias_gelu_v2_backward_kernel<T>, bias_gelu_v2_backward_config}, {}}},
};

}  // namespace mt

// The layer-norm ladder, in one place (kernels/ladder.cuh): every rung with its forward kernel and its
// backward kernels in launch order (dx, then dgamma and dbeta), each with the host function that gives its
// grid, block and shared memory. The CUDA launcher (csrc/cuda/layer_norm_launch.cu) and the emulator
// (csrc/emu/layer_norm.cpp) launch them from here; kernel_versions("layer_norm") reports the versions.
//
// To add a rung: write layer_norm_v3.cuh (its kernels and *_config functions, as the others do), include it
// below and add its line to kLayerNormLadder. The last line is the best kernel: the one the ops
// layer_norm_forward and layer_norm_backward run on CUDA tensors.
#pragma once
#include "kernels/ladder.cuh"
#include "kernels/layer_norm_v1.cuh"
#include "kernels/layer_norm_v2.cuh"

namespace mt {

// One launch: kernel<<<config(args)>>>(args).
struct LayerNormKernel {
  const char* name;  // for the emulator's error messages
  void (*kernel)(LayerNormArgs);
  LaunchConfig (*config)(const LayerNormArgs&);
};

struct LayerNormRung {
  int version;
  LayerNormKernel forward;      // y, mean, rstd
  LayerNormKernel backward[2];  // grad_x; then grad_weight and grad_bias
};

// The rungs for storage type T: float, __half or __nv_bfloat16.
template <typename T>
inline const LayerNormRung kLayerNormLadder[] = {
    {1,
     {"layer_norm_v1_forward", layer_norm_v1_forward_kernel<T>, layer_norm_v1_rows_config},
     {{"layer_norm_v1_backward_dx", layer_norm_v1_backward_dx_kernel<T>, layer_norm_v1_rows_config},
      {"layer_norm_v1_backward_params", layer_norm_v1_backward_params_kernel<T>, layer_norm_v1_params_config}}},
    {2,
     {"layer_norm_v2_forward", layer_norm_v2_forward_kernel<T>, layer_norm_v2_rows_config},
     {{"layer_norm_v2_backward_dx", layer_norm_v2_backward_dx_kernel<T>, layer_norm_v2_rows_config},
      {"layer_norm_v2_backward_params", layer_norm_v2_backward_params_kernel<T>, layer_norm_v2_params_config}}},
};

}  // namespace mt

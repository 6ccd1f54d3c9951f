// The dropout ladder, in one place (kernels/ladder.cuh): every rung, with its kernel and the host function
// that gives its grid, block and shared memory. The CUDA launcher (csrc/cuda/dropout_launch.cu) and the
// emulator (csrc/emu/dropout.cpp) launch rungs from here; kernel_versions("dropout") reports the versions.
//
// One kernel serves both directions: the forward y = residual + dropout(x), and the backward
// dx = dropout(dy) (residual = nullptr), the mask recomputed from (seed, offset). The last line is the best
// kernel: the one the ops dropout_add_forward and dropout_backward run on CUDA tensors.
#pragma once
#include "kernels/dropout_v1.cuh"
#include "kernels/dropout_v2.cuh"
#include "kernels/ladder.cuh"

namespace mt {

// kernel<<<config(n)>>>(x, residual, y, n, params) over n contiguous elements of storage type T (float,
// __half or __nv_bfloat16), computed in float32.
template <typename T>
struct DropoutRung {
  int version;
  const char* name;  // for the emulator's error messages
  void (*kernel)(const T* x, const T* residual, T* y, int n, DropoutParams params);
  LaunchConfig (*config)(int n);
};

template <typename T>
inline const DropoutRung<T> kDropoutLadder[] = {
    {1, "dropout_v1", dropout_v1_kernel<T>, dropout_v1_config},
    {2, "dropout_v2", dropout_v2_kernel<T>, dropout_v2_config},
};

}  // namespace mt

// The softmax ladder, in one place (kernels/ladder.cuh): every rung, with its kernel and the host
// function that gives its grid, block and shared memory. The CUDA launcher (csrc/cuda/softmax_launch.cu),
// the emulator (csrc/emu/softmax.cpp) and the tests' kernel registry (tests/emu/kernels/registry.h)
// launch rungs from here; kernel_versions("softmax") reports the versions listed here.
//
// To add a rung: write softmax_v4.cuh (softmax_v4_kernel and softmax_v4_config, as the others do),
// include it below and add its line to kSoftmaxLadder. The last line is the best kernel: the one the
// op `softmax` runs on CUDA tensors.
#pragma once
#include "kernels/ladder.cuh"
#include "kernels/softmax_v1.cuh"
#include "kernels/softmax_v2.cuh"
#include "kernels/softmax_v3.cuh"

namespace mt {

// kernel<<<config(rows, cols)>>>(x, y, rows, cols): y = softmax(x) along the rows of a contiguous
// (rows, cols) matrix of storage type T (float, __half or __nv_bfloat16), computed in float32.
template <typename T>
struct SoftmaxRung {
  int version;
  const char* name;  // for the emulator's error messages
  void (*kernel)(const T* x, T* y, int rows, int cols);
  LaunchConfig (*config)(int rows, int cols);
};

template <typename T>
inline const SoftmaxRung<T> kSoftmaxLadder[] = {
    {1, "softmax_v1", softmax_v1_kernel<T>, softmax_v1_config},
    {2, "softmax_v2", softmax_v2_kernel<T>, softmax_v2_config},
    {3, "softmax_v3", softmax_v3_kernel<T>, softmax_v3_config},
};

}  // namespace mt

// Host entry points of the CUDA softmax kernels. Declared without torch headers so the .cu that
// defines them compiles quickly; csrc/cuda/softmax.cpp turns tensors into these calls.
#pragma once
#include <cuda_runtime.h>

namespace mt::cuda {

constexpr int kSoftmaxVersions = 3;  // csrc/kernels/softmax_v1.cuh … softmax_v3.cuh

// y = softmax(x) along the rows of a contiguous (rows, cols) float32 matrix; version in 1..3.
cudaError_t softmax_forward(int version, const float* x, float* y, int rows, int cols,
                            cudaStream_t stream);

// dx = y * (dy - rowsum(y * dy)) for contiguous (rows, cols) float32 matrices.
cudaError_t softmax_backward(const float* y, const float* dy, float* dx, int rows, int cols,
                             cudaStream_t stream);

}  // namespace mt::cuda

// Host entry points of the CUDA softmax kernels. Declared without torch headers so the .cu that
// defines them compiles quickly; csrc/cuda/softmax.cpp turns tensors into these calls.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "cuda/storage_dtype.h"

namespace mt::cuda {

// The versions of the ladder, oldest first (csrc/kernels/softmax_ladder.cuh).
std::vector<int64_t> softmax_versions();

// y = softmax(x) along the rows of a contiguous (rows, cols) matrix of `dtype` with kernel `version`.
cudaError_t softmax_forward(int version, StorageDtype dtype, const void* x, void* y, int rows, int cols,
                            cudaStream_t stream);

// dx = y * (dy - rowsum(y * dy)) for contiguous (rows, cols) matrices of `dtype`.
cudaError_t softmax_backward(StorageDtype dtype, const void* y, const void* dy, void* dx, int rows, int cols,
                             cudaStream_t stream);

}  // namespace mt::cuda

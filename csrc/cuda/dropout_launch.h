// Host entry point of the CUDA dropout ladder (csrc/kernels/dropout_ladder.cuh). Declared without torch
// headers so the .cu that defines it compiles quickly; csrc/cuda/dropout.cpp turns tensors into this call.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "cuda/storage_dtype.h"
#include "kernels/philox.cuh"

namespace mt::cuda {

// The versions of the ladder, oldest first.
std::vector<int64_t> dropout_versions();

// y = residual + x m / (1 - p) over n contiguous elements of `dtype` (residual may be nullptr) with kernel
// `version`; the backward is the same call on dy with no residual.
cudaError_t dropout_add(int version, StorageDtype dtype, const void* x, const void* residual, void* y, int n,
                        const DropoutParams& params, cudaStream_t stream);

}  // namespace mt::cuda

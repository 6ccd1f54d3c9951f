// Host entry points of the CUDA cross-entropy ladder (csrc/kernels/cross_entropy_ladder.cuh). Declared
// without torch headers so the .cu that defines them compiles quickly; csrc/cuda/cross_entropy.cpp fills
// the arguments.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "cuda/storage_dtype.h"
#include "kernels/cross_entropy_params.cuh"

namespace mt::cuda {

// The versions of the ladder, oldest first.
std::vector<int64_t> cross_entropy_versions();

// losses, row_max_out, log_sum_out from logits (of `dtype`) and targets (see CrossEntropyArgs) with kernel
// `version`.
cudaError_t cross_entropy_forward(int version, StorageDtype dtype, const CrossEntropyArgs& args,
                                  cudaStream_t stream);

// grad_logits from logits (of `dtype`), targets, row_max, log_sum and grad_losses with `version`'s backward
// kernel.
cudaError_t cross_entropy_backward(int version, StorageDtype dtype, const CrossEntropyArgs& args,
                                   cudaStream_t stream);

}  // namespace mt::cuda

// Host entry points of the CUDA bias + GELU ladder (csrc/kernels/bias_gelu_ladder.cuh). Declared without
// torch headers so the .cu that defines them compiles quickly; csrc/cuda/bias_gelu.cpp fills the arguments.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "cuda/storage_dtype.h"
#include "kernels/bias_gelu_params.cuh"

namespace mt::cuda {

// The versions of the ladder, oldest first.
std::vector<int64_t> bias_gelu_versions();

// y = gelu(x + bias) (see BiasGeluArgs) in `dtype` with kernel `version`.
cudaError_t bias_gelu_forward(int version, StorageDtype dtype, const BiasGeluArgs& args, cudaStream_t stream);

// grad_x and grad_bias from grad_y, x and bias in `dtype` with `version`'s backward kernels.
cudaError_t bias_gelu_backward(int version, StorageDtype dtype, const BiasGeluArgs& args, cudaStream_t stream);

}  // namespace mt::cuda

// Host entry points of the CUDA layer-norm ladder (csrc/kernels/layer_norm_ladder.cuh). Declared without
// torch headers so the .cu that defines them compiles quickly; csrc/cuda/layer_norm.cpp fills the arguments.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "cuda/storage_dtype.h"
#include "kernels/layer_norm_params.cuh"

namespace mt::cuda {

// The versions of the ladder, oldest first.
std::vector<int64_t> layer_norm_versions();

// y, mean_out, rstd_out from x, weight, bias (see LayerNormArgs) in `dtype` with kernel `version`.
cudaError_t layer_norm_forward(int version, StorageDtype dtype, const LayerNormArgs& args, cudaStream_t stream);

// grad_x, grad_weight, grad_bias from grad_y, x, weight, mean, rstd in `dtype` with `version`'s backward kernels.
cudaError_t layer_norm_backward(int version, StorageDtype dtype, const LayerNormArgs& args, cudaStream_t stream);

}  // namespace mt::cuda

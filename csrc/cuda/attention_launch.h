// Host entry points of the CUDA attention kernels (csrc/kernels/attention_ladder.cuh). Declared without
// torch headers so the .cu that defines them compiles quickly; csrc/cuda/attention.cpp turns tensors
// into these calls.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cuda/storage_dtype.h"
#include "kernels/attention_params.cuh"

namespace mt::cuda {

// The versions of the ladder, oldest first.
std::vector<int64_t> attention_versions();

// The version the op attention_forward runs for `dtype` (best_attention_rung in the ladder).
int attention_best_version(StorageDtype dtype);

// Floats of scratch memory `version` needs in AttentionArgs::workspace (0: none).
size_t attention_workspace_floats(int version, const AttentionArgs& args);

// out and lse from q, k, v (see AttentionArgs) with kernel `version`.
cudaError_t attention_forward(int version, StorageDtype dtype, const AttentionArgs& args, cudaStream_t stream);

// grad_q, grad_k, grad_v (and delta, a (B, H, N_q) float scratch) from any version's out and lse.
cudaError_t attention_backward(StorageDtype dtype, const AttentionArgs& args, cudaStream_t stream);

}  // namespace mt::cuda

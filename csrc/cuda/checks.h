// The tensor check shared by the CUDA glue of the training ops (dropout, layer norm, bias + GELU,
// cross-entropy): the kernels take float32 CUDA tensors with 32-bit element indices.
#pragma once
#include <ATen/ATen.h>

#include <limits>

namespace mt::cuda {

inline void check_cuda_float(const at::Tensor& t, const char* name, const char* op) {
  TORCH_CHECK(t.is_cuda(), op, ": ", name, " must be a CUDA tensor, got device ", t.device());
  TORCH_CHECK(t.scalar_type() == at::kFloat, op, ": ", name, " must be float32 on CUDA, got ", t.scalar_type());
  TORCH_CHECK(t.numel() <= std::numeric_limits<int>::max(), op, ": ", name, " has too many elements (", t.numel(),
              ") for 32-bit indexing");
}

}  // namespace mt::cuda

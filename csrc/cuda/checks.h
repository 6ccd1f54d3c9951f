// The tensor checks shared by the CUDA glue: the kernels take float32, float16 or bfloat16 CUDA tensors
// (storage_dtype); check_cuda_float is for the statistics kept in float32 whatever that dtype (layer norm's
// mean and rstd).
#pragma once
#include <ATen/ATen.h>

#include <limits>

#include "cuda/storage_dtype.h"

namespace mt::cuda {

inline void check_cuda_tensor(const at::Tensor& t, const char* name, const char* op) {
  TORCH_CHECK(t.is_cuda(), op, ": ", name, " must be a CUDA tensor, got device ", t.device());
  TORCH_CHECK(t.numel() <= std::numeric_limits<int>::max(), op, ": ", name, " has too many elements (", t.numel(),
              ") for 32-bit indexing");
}

inline void check_cuda_float(const at::Tensor& t, const char* name, const char* op) {
  check_cuda_tensor(t, name, op);
  TORCH_CHECK(t.scalar_type() == at::kFloat, op, ": ", name, " must be float32 on CUDA, got ", t.scalar_type());
}

// The storage dtype of `t` for the kernels; any other dtype is an error naming the three.
inline StorageDtype storage_dtype(const at::Tensor& t, const char* name, const char* op) {
  switch (t.scalar_type()) {
    case at::kFloat: return StorageDtype::float32;
    case at::kHalf: return StorageDtype::float16;
    case at::kBFloat16: return StorageDtype::bfloat16;
    default: TORCH_CHECK(false, op, ": ", name, " must be float32, float16 or bfloat16 on CUDA, got ", t.scalar_type());
  }
}

}  // namespace mt::cuda

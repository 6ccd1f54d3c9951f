// The storage dtypes of the CUDA kernels, float32, float16 and bfloat16, named without torch headers so
// the launchers (csrc/cuda/*_launch.cu) can take them; the glue maps a tensor's dtype here
// (csrc/cuda/checks.h:storage_dtype).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace mt::cuda {

enum class StorageDtype { float32, float16, bfloat16 };

// f(T{}) with T the kernels' storage type for `dtype`: float, __half or __nv_bfloat16.
template <typename F>
decltype(auto) with_storage_type(StorageDtype dtype, F&& f) {
  switch (dtype) {
    case StorageDtype::float16: return f(__half{});
    case StorageDtype::bfloat16: return f(__nv_bfloat16{});
    default: return f(float{});
  }
}

}  // namespace mt::cuda

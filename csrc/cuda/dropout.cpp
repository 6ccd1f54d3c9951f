// CUDA glue of the dropout ops (float32, float16 and bfloat16): checks, contiguous inputs, the current stream.
// dropout_add_forward and dropout_backward run the best kernel of the ladder (csrc/kernels/dropout_ladder.cuh).
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "cuda/checks.h"
#include "cuda/dropout_launch.h"
#include "dropout_args.h"

namespace mt::cuda {
namespace {

// y = residual + dropout(x) by the ladder's best rung; residual may be undefined.
at::Tensor run_best(const at::Tensor& x, const at::Tensor& residual, const DropoutParams& params,
                    StorageDtype dtype) {
  static const int64_t best = dropout_versions().back();
  const c10::cuda::CUDAGuard guard(x.device());
  at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
  if (x.numel() > 0) {
    C10_CUDA_CHECK(dropout_add(static_cast<int>(best), dtype, x.const_data_ptr(),
                               residual.defined() ? residual.const_data_ptr() : nullptr, y.mutable_data_ptr(),
                               static_cast<int>(x.numel()), params, c10::cuda::getCurrentCUDAStream()));
  }
  return y;
}

at::Tensor dropout_add_forward(const at::Tensor& x, const std::optional<at::Tensor>& residual, double p,
                               int64_t seed, int64_t offset) {
  const char* op = "minitransformer::dropout_add_forward";
  check_cuda_tensor(x, "x", op);
  const StorageDtype dtype = storage_dtype(x, "x", op);
  check_dropout_residual(x, residual, op);
  const DropoutParams params = make_dropout_params(p, seed, offset, op);
  return run_best(x.contiguous(), residual.has_value() ? residual->contiguous() : at::Tensor(), params, dtype);
}

at::Tensor dropout_backward(const at::Tensor& grad_y, double p, int64_t seed, int64_t offset) {
  const char* op = "minitransformer::dropout_backward";
  check_cuda_tensor(grad_y, "grad_y", op);
  const StorageDtype dtype = storage_dtype(grad_y, "grad_y", op);
  return run_best(grad_y.contiguous(), at::Tensor(), make_dropout_params(p, seed, offset, op), dtype);
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CUDA, m) {
  m.impl("dropout_add_forward", &dropout_add_forward);
  m.impl("dropout_backward", &dropout_backward);
}

}  // namespace mt::cuda

// CUDA glue of the softmax ops (float32, float16 and bfloat16): checks, the (rows, cols) view, the current
// stream, error checking.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "cuda/checks.h"
#include "cuda/softmax_launch.h"
#include "kernel_versions.h"
#include "softmax_args.h"

namespace mt::cuda {
namespace {

at::Tensor softmax_kernel(const at::Tensor& x, int64_t dim, int64_t version) {
  const char* op = "minitransformer::softmax_kernel";
  dim = checked_softmax_dim(x, dim, op);
  check_cuda_tensor(x, "x", op);
  const StorageDtype dtype = storage_dtype(x, "x", op);
  check_kernel_version(softmax_versions(), version, op);
  const c10::cuda::CUDAGuard guard(x.device());
  const at::Tensor rows = as_rows(x, dim);
  at::Tensor y = at::empty_like(rows);
  const int64_t cols = rows.size(-1);
  if (rows.numel() > 0) {
    C10_CUDA_CHECK(softmax_forward(static_cast<int>(version), dtype, rows.const_data_ptr(), y.mutable_data_ptr(),
                                   static_cast<int>(rows.numel() / cols), static_cast<int>(cols),
                                   c10::cuda::getCurrentCUDAStream()));
  }
  return from_rows(y, dim);
}

// The best kernel: the ladder's last rung.
at::Tensor softmax(const at::Tensor& x, int64_t dim) {
  static const int64_t best = softmax_versions().back();
  return softmax_kernel(x, dim, best);
}

at::Tensor softmax_backward_cuda(const at::Tensor& y, const at::Tensor& grad_y, int64_t dim) {
  const char* op = "minitransformer::softmax_backward";
  dim = checked_softmax_dim(y, dim, op);
  check_same_layout(y, grad_y, op, "y", "grad_y");
  check_cuda_tensor(y, "y", op);
  const StorageDtype dtype = storage_dtype(y, "y", op);
  const c10::cuda::CUDAGuard guard(y.device());
  const at::Tensor y_rows = as_rows(y, dim);
  const at::Tensor dy_rows = as_rows(grad_y, dim);
  at::Tensor dx = at::empty_like(y_rows);
  const int64_t cols = y_rows.size(-1);
  if (y_rows.numel() > 0) {
    C10_CUDA_CHECK(softmax_backward(dtype, y_rows.const_data_ptr(), dy_rows.const_data_ptr(), dx.mutable_data_ptr(),
                                    static_cast<int>(y_rows.numel() / cols), static_cast<int>(cols),
                                    c10::cuda::getCurrentCUDAStream()));
  }
  return from_rows(dx, dim);
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CUDA, m) {
  m.impl("softmax", &softmax);
  m.impl("softmax_backward", &softmax_backward_cuda);
  m.impl("softmax_kernel", &softmax_kernel);
}

}  // namespace mt::cuda

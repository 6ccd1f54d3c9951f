// CUDA glue of the bias + GELU ops (float32, float16 and bfloat16): checks, contiguous inputs, the current
// stream. bias_gelu_forward and bias_gelu_backward run the best rung of the ladder
// (csrc/kernels/bias_gelu_ladder.cuh).
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <tuple>

#include "bias_gelu_args.h"
#include "cuda/bias_gelu_launch.h"
#include "cuda/checks.h"

namespace mt::cuda {
namespace {

int best_version() {
  static const int best = static_cast<int>(bias_gelu_versions().back());
  return best;
}

at::Tensor forward(const at::Tensor& x_in, const at::Tensor& bias_in, c10::string_view approximate) {
  const char* op = "minitransformer::bias_gelu_forward";
  check_bias_gelu_args(x_in, bias_in, op);
  check_cuda_tensor(x_in, "x", op);
  const StorageDtype dtype = storage_dtype(x_in, "x", op);
  const bool tanh_form = is_tanh(approximate, op);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous(), bias = bias_in.contiguous();
  at::Tensor y = at::empty_like(x);
  if (x.numel() == 0) return y;
  BiasGeluArgs a = bias_gelu_args(x, bias, tanh_form);
  a.y = y.mutable_data_ptr();
  C10_CUDA_CHECK(bias_gelu_forward(best_version(), dtype, a, c10::cuda::getCurrentCUDAStream()));
  return y;
}

std::tuple<at::Tensor, at::Tensor> backward(const at::Tensor& grad_y, const at::Tensor& x_in,
                                            const at::Tensor& bias_in, c10::string_view approximate) {
  const char* op = "minitransformer::bias_gelu_backward";
  check_bias_gelu_args(x_in, bias_in, op);
  check_cuda_tensor(x_in, "x", op);
  const StorageDtype dtype = storage_dtype(x_in, "x", op);
  check_bias_gelu_backward_args(grad_y, x_in, op);
  const bool tanh_form = is_tanh(approximate, op);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor dy = grad_y.contiguous(), x = x_in.contiguous(), bias = bias_in.contiguous();
  at::Tensor dx = at::empty_like(x), db = at::zeros_like(bias);
  if (x.numel() == 0) return {dx, db};
  BiasGeluArgs a = bias_gelu_backward_args(dy, x, bias, tanh_form, dx, db);
  C10_CUDA_CHECK(bias_gelu_backward(best_version(), dtype, a, c10::cuda::getCurrentCUDAStream()));
  return {dx, db};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CUDA, m) {
  m.impl("bias_gelu_forward", &forward);
  m.impl("bias_gelu_backward", &backward);
}

}  // namespace mt::cuda

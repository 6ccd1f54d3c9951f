// CUDA glue of the layer-norm ops (float32, float16 and bfloat16; mean and rstd float32): checks, contiguous
// inputs, the current stream. layer_norm_forward and layer_norm_backward run the best rung of the ladder
// (csrc/kernels/layer_norm_ladder.cuh).
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <tuple>

#include "cuda/checks.h"
#include "cuda/layer_norm_launch.h"
#include "layer_norm_args.h"

namespace mt::cuda {
namespace {

int best_version() {
  static const int best = static_cast<int>(layer_norm_versions().back());
  return best;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> forward(const at::Tensor& x_in, const at::Tensor& weight,
                                                       const at::Tensor& bias, double eps) {
  const char* op = "minitransformer::layer_norm_forward";
  check_layer_norm_args(x_in, weight, bias, op);
  check_cuda_tensor(x_in, "x", op);
  const StorageDtype dtype = storage_dtype(x_in, "x", op);
  TORCH_CHECK(eps > 0, op, ": eps must be positive, got ", eps);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous(), w = weight.contiguous(), b = bias.contiguous();
  const std::vector<int64_t> row_shape(x.sizes().begin(), x.sizes().end() - 1);
  at::Tensor y = at::empty_like(x), mean = at::empty(row_shape, x.options().dtype(at::kFloat));
  at::Tensor rstd = at::empty_like(mean);
  if (x.numel() == 0) return {y, mean, rstd};
  const LayerNormArgs a = layer_norm_forward_args(x, w, b, y, mean, rstd, eps);
  C10_CUDA_CHECK(layer_norm_forward(best_version(), dtype, a, c10::cuda::getCurrentCUDAStream()));
  return {y, mean, rstd};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> backward(const at::Tensor& grad_y, const at::Tensor& x_in,
                                                        const at::Tensor& weight, const at::Tensor& mean_in,
                                                        const at::Tensor& rstd_in) {
  const char* op = "minitransformer::layer_norm_backward";
  check_layer_norm_args(x_in, weight, weight, op);
  check_layer_norm_backward_args(grad_y, x_in, mean_in, rstd_in, op);
  check_cuda_tensor(grad_y, "grad_y", op);
  check_cuda_tensor(x_in, "x", op);
  const StorageDtype dtype = storage_dtype(x_in, "x", op);
  check_cuda_float(mean_in, "mean", op);
  check_cuda_float(rstd_in, "rstd", op);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor dy = grad_y.contiguous(), x = x_in.contiguous(), w = weight.contiguous();
  const at::Tensor mean = mean_in.contiguous(), rstd = rstd_in.contiguous();
  at::Tensor dx = at::empty_like(x), dw = at::zeros_like(w), db = at::zeros_like(w);
  if (x.numel() == 0) return {dx, dw, db};
  const LayerNormArgs a = layer_norm_backward_args(dy, x, w, mean, rstd, dx, dw, db);
  C10_CUDA_CHECK(layer_norm_backward(best_version(), dtype, a, c10::cuda::getCurrentCUDAStream()));
  return {dx, dw, db};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CUDA, m) {
  m.impl("layer_norm_forward", &forward);
  m.impl("layer_norm_backward", &backward);
}

}  // namespace mt::cuda

// Argument checks shared by every layer-norm implementation (CPU, CUDA, emulated CUDA): x (..., D) with
// D >= 1, weight and bias (D,) in x's dtype and device; for the backward grad_y of x's shape and dtype and
// one mean and rstd per row. And the CUDA kernels' argument struct filled from contiguous tensors (CUDA and
// emulated CUDA): x, weight, bias and the gradients in the storage dtype, mean and rstd float32.
#pragma once
#include <ATen/ATen.h>

#include "kernels/layer_norm_params.cuh"

namespace mt {

inline void check_layer_norm_args(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                  const char* op) {
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) >= 1, op, ": x must have a non-empty last dimension, got ", x.sizes());
  for (const auto* parameter : {&weight, &bias})
    TORCH_CHECK(parameter->dim() == 1 && parameter->size(0) == x.size(-1) &&
                    parameter->scalar_type() == x.scalar_type() && parameter->device() == x.device(),
                op, ": weight and bias must be (", x.size(-1), ",) in x's dtype and device, got ", parameter->sizes(),
                " ", parameter->scalar_type());
}

inline void check_layer_norm_backward_args(const at::Tensor& grad_y, const at::Tensor& x, const at::Tensor& mean,
                                           const at::Tensor& rstd, const char* op) {
  TORCH_CHECK(grad_y.sizes() == x.sizes() && grad_y.scalar_type() == x.scalar_type(), op,
              ": grad_y must have x's shape and dtype");
  const int64_t rows = x.numel() / x.size(-1);
  TORCH_CHECK(mean.numel() == rows && rstd.numel() == rows, op, ": mean and rstd must have one value per row");
}

inline LayerNormArgs layer_norm_forward_args(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                             at::Tensor& y, at::Tensor& mean, at::Tensor& rstd, double eps) {
  LayerNormArgs a{};
  a.x = x.const_data_ptr();
  a.weight = weight.const_data_ptr();
  a.bias = bias.const_data_ptr();
  a.y = y.mutable_data_ptr();
  a.mean_out = mean.mutable_data_ptr<float>();
  a.rstd_out = rstd.mutable_data_ptr<float>();
  a.cols = static_cast<int>(x.size(-1));
  a.rows = static_cast<int>(x.numel() / a.cols);
  a.eps = static_cast<float>(eps);
  return a;
}

inline LayerNormArgs layer_norm_backward_args(const at::Tensor& grad_y, const at::Tensor& x, const at::Tensor& weight,
                                              const at::Tensor& mean, const at::Tensor& rstd, at::Tensor& grad_x,
                                              at::Tensor& grad_weight, at::Tensor& grad_bias) {
  LayerNormArgs a{};
  a.x = x.const_data_ptr();
  a.weight = weight.const_data_ptr();
  a.mean = mean.const_data_ptr<float>();
  a.rstd = rstd.const_data_ptr<float>();
  a.grad_y = grad_y.const_data_ptr();
  a.grad_x = grad_x.mutable_data_ptr();
  a.grad_weight = grad_weight.mutable_data_ptr();
  a.grad_bias = grad_bias.mutable_data_ptr();
  a.cols = static_cast<int>(x.size(-1));
  a.rows = static_cast<int>(x.numel() / a.cols);
  return a;
}

}  // namespace mt

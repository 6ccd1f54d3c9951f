// Argument checks shared by every bias + GELU implementation (CPU, CUDA, emulated CUDA): x (..., F) with
// F >= 1, bias (F,) in x's dtype and device, approximate "none" (erf) or "tanh"; and the CUDA kernels'
// argument struct filled from tensors (CUDA and emulated CUDA).
#pragma once
#include <ATen/ATen.h>
#include <c10/util/string_view.h>

#include <string>

#include "kernels/bias_gelu_params.cuh"

namespace mt {

// True for the tanh form, false for the exact (erf) one.
inline bool is_tanh(c10::string_view approximate, const char* op) {
  TORCH_CHECK(approximate == "none" || approximate == "tanh", op, ": approximate must be 'none' or 'tanh', got '",
              std::string(approximate), "'");
  return approximate == "tanh";
}

inline void check_bias_gelu_args(const at::Tensor& x, const at::Tensor& bias, const char* op) {
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) >= 1, op, ": x must have a non-empty last dimension, got ", x.sizes());
  TORCH_CHECK(bias.dim() == 1 && bias.size(0) == x.size(-1) && bias.scalar_type() == x.scalar_type() &&
                  bias.device() == x.device(),
              op, ": bias must be (", x.size(-1), ",) in x's dtype and device, got ", bias.sizes(), " ",
              bias.scalar_type());
}

inline void check_bias_gelu_backward_args(const at::Tensor& grad_y, const at::Tensor& x, const char* op) {
  TORCH_CHECK(grad_y.sizes() == x.sizes() && grad_y.scalar_type() == x.scalar_type(), op,
              ": grad_y must have x's shape and dtype");
}

// The kernels' view of contiguous x (rows, F) and bias (F,); the outputs, in their dtype, are set by the caller.
inline BiasGeluArgs bias_gelu_args(const at::Tensor& x, const at::Tensor& bias, bool tanh_form) {
  BiasGeluArgs a{};
  a.x = x.const_data_ptr();
  a.bias = bias.const_data_ptr();
  a.cols = static_cast<int>(x.size(-1));
  a.rows = static_cast<int>(x.numel() / a.cols);
  a.tanh_form = tanh_form;
  return a;
}

// The backward's view: dy like x, and the outputs dx like x and db (F,).
inline BiasGeluArgs bias_gelu_backward_args(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& bias,
                                           bool tanh_form, at::Tensor& dx, at::Tensor& db) {
  BiasGeluArgs a = bias_gelu_args(x, bias, tanh_form);
  a.grad_y = dy.const_data_ptr();
  a.grad_x = dx.mutable_data_ptr();
  a.grad_bias = db.mutable_data_ptr();
  return a;
}

}  // namespace mt

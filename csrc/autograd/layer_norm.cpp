// Autograd of minitransformer::layer_norm_forward, in C++: the backward node is the op layer_norm_backward
// (dx, dgamma, dbeta from the saved x, gamma and the per-row mean and 1/std; csrc/cpu/layer_norm.cpp).
//
// The other ops register their autograd from Python (torch.library.register_autograd in
// minitransformer/ops/). LayerNorm runs on (rows, 128)-sized activations several times per layer, where
// the kernel takes a few hundred microseconds and the Python of a custom autograd function, tens of them
// each way: here the forward and the backward go from the dispatcher to the kernel without entering
// Python. Registered for the Autograd key, it serves every device; the fake kernel (for torch.compile)
// and the autocast rule stay in Python (ops/layer_norm.py, ops/autocast.py).
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include <tuple>

namespace mt::autograd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using Stats = std::tuple<at::Tensor, at::Tensor, at::Tensor>;

Stats forward_op(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("minitransformer::layer_norm_forward", "")
                             .typed<Stats(const at::Tensor&, const at::Tensor&, const at::Tensor&, double)>();
  return op.call(x, weight, bias, eps);
}

Stats backward_op(const at::Tensor& grad_y, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& mean,
                  const at::Tensor& rstd) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("minitransformer::layer_norm_backward", "")
                             .typed<Stats(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                          const at::Tensor&, const at::Tensor&)>();
  return op.call(grad_y, x, weight, mean, rstd);
}

class LayerNormFunction : public torch::autograd::Function<LayerNormFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                               const at::Tensor& bias, double eps) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;  // the device kernel, not this function again
    auto [y, mean, rstd] = forward_op(x, weight, bias, eps);
    ctx->save_for_backward({x, weight, mean, rstd});
    ctx->mark_non_differentiable({mean, rstd});  // saved for the backward, not results to differentiate
    return {y, mean, rstd};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {  // grads: y, mean, rstd
    const variable_list saved = ctx->get_saved_variables();
    auto [grad_x, grad_weight, grad_bias] = backward_op(grads[0].contiguous(), saved[0], saved[1], saved[2], saved[3]);
    return {grad_x, grad_weight, grad_bias, at::Tensor()};  // eps: no gradient
  }
};

Stats layer_norm_forward(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  const variable_list out = LayerNormFunction::apply(x, weight, bias, eps);
  return {out[0], out[1], out[2]};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, Autograd, m) { m.impl("layer_norm_forward", &layer_norm_forward); }

}  // namespace mt::autograd

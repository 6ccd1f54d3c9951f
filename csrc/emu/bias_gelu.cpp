// The CUDA bias + GELU ladder (csrc/kernels/bias_gelu_ladder.cuh) run on float32, float16 and bfloat16 CPU
// tensors by the emulator: the ops emulated_bias_gelu_forward and emulated_bias_gelu_backward, one rung each.
#include "emu/launch.h"  // first: it includes the torch headers before the CUDA macros

#include <torch/library.h>

#include <tuple>

#include "bias_gelu_args.h"
#include "kernel_versions.h"
#include "kernels/bias_gelu_ladder.cuh"

namespace mt::emulated {

std::vector<int64_t> bias_gelu_versions() { return ladder_versions(kBiasGeluLadder<float>); }

namespace {

at::Tensor forward(const at::Tensor& x_in, const at::Tensor& bias_in, c10::string_view approximate, int64_t version,
                   c10::string_view order, int64_t seed, c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_bias_gelu_forward";
  check_bias_gelu_args(x_in, bias_in, op);
  check_storage_cpu(x_in, op, "x");
  const bool tanh_form = is_tanh(approximate, op);
  check_kernel_version(bias_gelu_versions(), version, op);
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  const at::Tensor x = x_in.contiguous(), bias = bias_in.contiguous();
  at::Tensor y = at::empty_like(x);
  if (x.numel() == 0) return y;
  BiasGeluArgs a = bias_gelu_args(x, bias, tanh_form);
  a.y = y.mutable_data_ptr();
  with_storage_type(x.scalar_type(), [&](auto storage) {
    launch_kernel(find_rung(kBiasGeluLadder<decltype(storage)>, version)->forward, a, options);
  });
  return y;
}

std::tuple<at::Tensor, at::Tensor> backward(const at::Tensor& grad_y, const at::Tensor& x_in, const at::Tensor& bias_in,
                                            c10::string_view approximate, int64_t version, c10::string_view order,
                                            int64_t seed, c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_bias_gelu_backward";
  check_bias_gelu_args(x_in, bias_in, op);
  check_storage_cpu(x_in, op, "x");
  check_bias_gelu_backward_args(grad_y, x_in, op);
  const bool tanh_form = is_tanh(approximate, op);
  check_kernel_version(bias_gelu_versions(), version, op);
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  const at::Tensor dy = grad_y.contiguous(), x = x_in.contiguous(), bias = bias_in.contiguous();
  at::Tensor dx = at::empty_like(x), db = at::zeros_like(bias);
  if (x.numel() == 0) return {dx, db};
  BiasGeluArgs a = bias_gelu_backward_args(dy, x, bias, tanh_form, dx, db);
  with_storage_type(x.scalar_type(), [&](auto storage) {
    for (const BiasGeluKernel& k : find_rung(kBiasGeluLadder<decltype(storage)>, version)->backward)
      launch_kernel(k, a, options);
  });
  return {dx, db};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("emulated_bias_gelu_forward", &forward);
  m.impl("emulated_bias_gelu_backward", &backward);
}

}  // namespace mt::emulated

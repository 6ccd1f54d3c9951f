// The CUDA layer-norm ladder (csrc/kernels/layer_norm_ladder.cuh) run on float32, float16 and bfloat16 CPU
// tensors by the emulator: the ops emulated_layer_norm_forward and emulated_layer_norm_backward, one rung
// each. mean and rstd are float32 whatever x's dtype.
#include "emu/launch.h"  // first: it includes the torch headers before the CUDA macros

#include <torch/library.h>

#include <tuple>

#include "kernel_versions.h"
#include "kernels/layer_norm_ladder.cuh"
#include "layer_norm_args.h"

namespace mt::emulated {

std::vector<int64_t> layer_norm_versions() { return ladder_versions(kLayerNormLadder<float>); }

namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor> forward(const at::Tensor& x_in, const at::Tensor& weight,
                                                       const at::Tensor& bias, double eps, int64_t version,
                                                       c10::string_view order, int64_t seed,
                                                       c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_layer_norm_forward";
  check_layer_norm_args(x_in, weight, bias, op);
  check_storage_cpu(x_in, op, "x");
  TORCH_CHECK(eps > 0, op, ": eps must be positive, got ", eps);
  check_kernel_version(layer_norm_versions(), version, op);
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  const at::Tensor x = x_in.contiguous(), w = weight.contiguous(), b = bias.contiguous();
  const std::vector<int64_t> row_shape(x.sizes().begin(), x.sizes().end() - 1);
  at::Tensor y = at::empty_like(x), mean = at::empty(row_shape, x.options().dtype(at::kFloat));
  at::Tensor rstd = at::empty_like(mean);
  if (x.numel() == 0) return {y, mean, rstd};
  const LayerNormArgs a = layer_norm_forward_args(x, w, b, y, mean, rstd, eps);
  with_storage_type(x.scalar_type(), [&](auto storage) {
    launch_kernel(find_rung(kLayerNormLadder<decltype(storage)>, version)->forward, a, options);
  });
  return {y, mean, rstd};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> backward(const at::Tensor& grad_y, const at::Tensor& x_in,
                                                        const at::Tensor& weight, const at::Tensor& mean_in,
                                                        const at::Tensor& rstd_in, int64_t version,
                                                        c10::string_view order, int64_t seed,
                                                        c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_layer_norm_backward";
  check_layer_norm_args(x_in, weight, weight, op);
  check_layer_norm_backward_args(grad_y, x_in, mean_in, rstd_in, op);
  check_storage_cpu(grad_y, op, "grad_y");
  check_storage_cpu(x_in, op, "x");
  check_float_cpu(mean_in, op, "mean");
  check_float_cpu(rstd_in, op, "rstd");
  check_kernel_version(layer_norm_versions(), version, op);
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  const at::Tensor dy = grad_y.contiguous(), x = x_in.contiguous(), w = weight.contiguous();
  const at::Tensor mean = mean_in.contiguous(), rstd = rstd_in.contiguous();
  at::Tensor dx = at::empty_like(x), dw = at::zeros_like(w), db = at::zeros_like(w);
  if (x.numel() == 0) return {dx, dw, db};
  const LayerNormArgs a = layer_norm_backward_args(dy, x, w, mean, rstd, dx, dw, db);
  with_storage_type(x.scalar_type(), [&](auto storage) {
    for (const LayerNormKernel& k : find_rung(kLayerNormLadder<decltype(storage)>, version)->backward)
      launch_kernel(k, a, options);
  });
  return {dx, dw, db};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("emulated_layer_norm_forward", &forward);
  m.impl("emulated_layer_norm_backward", &backward);
}

}  // namespace mt::emulated

// Bias add and GELU in one pass on the CPU (the feed-forward's first bias and its activation), at::vec
// inside at::parallel_for over rows. x (rows, F) is the matrix product before its bias b (F,); z = x + b:
//
//   exact ("none"): gelu(z) = z Phi(z) = z/2 (1 + erf(z / sqrt 2)),
//                   gelu'(z) = Phi(z) + z phi(z),   phi(z) = exp(-z^2/2) / sqrt(2 pi)
//   "tanh":         gelu(z) ~ z/2 (1 + t),  t = tanh(u),  u = sqrt(2/pi) (z + 0.044715 z^3),
//                   gelu'(z) ~ (1 + t)/2 + z/2 (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 z^2)
//   backward: dx = dy gelu'(x + b),   db = sum_rows dx
//
// Nothing but x is saved: the backward recomputes z. db is summed in blocks of kRowsPerBlock rows, then
// the blocks in order, so its bits do not depend on the thread count. bfloat16 and float16 tensors are widened
// to float32 (rows.h: widened) and the results rounded to the input dtype.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <type_traits>
#include <utility>

#include "bias_gelu_args.h"
#include "cpu/huge_pages.h"
#include "cpu/rows.h"

namespace mt::cpu {
namespace {

using at::vec::Vectorized;

constexpr double kSqrtHalf = 0.70710678118654752440, kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kSqrt2OverPi = 0.79788456080286535588, kCubic = 0.044715;

void check_cpu_bias_gelu_args(const at::Tensor& x, const at::Tensor& bias, const char* op) {
  check_bias_gelu_args(x, bias, op);
  check_cpu_float(x, "x", op);
}

template <typename scalar_t>
struct Gelu {
  using Vec = Vectorized<scalar_t>;

  // Phi(z) = (1 + erf(z / sqrt 2)) / 2 and g = exp(-z^2 / 2), so that phi(z) = g / sqrt(2 pi): one exponential
  // for both. In float32, erf(|a|), a = z / sqrt 2, is Abramowitz & Stegun's 7.1.26,
  //   erf(|a|) = 1 - t (p1 + t (p2 + t (p3 + t (p4 + t p5)))) exp(-a^2),   t = 1 / (1 + p |a|),
  // |error| <= 1.5e-7, the approximation at::vec's own float erf uses, whose exp(-a^2) is g; then
  // Phi(z) = q for z < 0 and 1 - q otherwise, q = (1 - erf(|a|)) / 2. g comes from at::vec's inlined
  // exp_u20 (within 20 units in the last place, 1.2e-6 relative): a library call per vector would stall
  // the pipeline more than the arithmetic costs. float64 keeps the exact erf and exp.
  static std::pair<Vec, Vec> cdf_and_gaussian(Vec z) {
    const Vec half(scalar_t(0.5)), one(scalar_t(1));
    if constexpr (std::is_same_v<scalar_t, float>) {
      const Vec gaussian = (Vec(-0.5f) * z * z).exp_u20();
      const Vec t = one / (one + Vec(0.3275911f) * (z.abs() * Vec(scalar_t(kSqrtHalf))));
      Vec poly = Vec(1.061405429f) * t + Vec(-1.453152027f);
      poly = (poly * t + Vec(1.421413741f)) * t + Vec(-0.284496736f);
      poly = poly * t + Vec(0.254829592f);
      const Vec q = half * t * poly * gaussian;
      return {Vec::blendv(one - q, q, z < Vec(0.f)), gaussian};
    } else {
      return {half * (one + (z * Vec(scalar_t(kSqrtHalf))).erf()), (Vec(scalar_t(-0.5)) * z * z).exp()};
    }
  }

  static Vec value(Vec z, bool tanh_form) {
    const Vec half(scalar_t(0.5)), one(scalar_t(1));
    if (tanh_form) {
      const Vec u = Vec(scalar_t(kSqrt2OverPi)) * (z + Vec(scalar_t(kCubic)) * z * z * z);
      return half * z * (one + u.tanh());
    }
    return z * cdf_and_gaussian(z).first;
  }

  static Vec derivative(Vec z, bool tanh_form) {
    const Vec half(scalar_t(0.5)), one(scalar_t(1));
    if (tanh_form) {
      const Vec t = (Vec(scalar_t(kSqrt2OverPi)) * (z + Vec(scalar_t(kCubic)) * z * z * z)).tanh();
      const Vec du = Vec(scalar_t(kSqrt2OverPi)) * (one + Vec(scalar_t(3 * kCubic)) * z * z);
      return half * (one + t) + half * z * (one - t * t) * du;
    }
    const auto [cdf, gaussian] = cdf_and_gaussian(z);
    return cdf + z * gaussian * Vec(scalar_t(kInvSqrt2Pi));
  }
};

at::Tensor bias_gelu_forward(const at::Tensor& x_in, const at::Tensor& bias_in, c10::string_view approximate) {
  const char* op = "minitransformer::bias_gelu_forward";
  check_cpu_bias_gelu_args(x_in, bias_in, op);
  const bool tanh_form = is_tanh(approximate, op);
  const at::Tensor x = widened(x_in).contiguous(), bias = widened(bias_in).contiguous();
  const int64_t features = x.size(-1), rows = x.numel() / features;
  at::Tensor y = empty_output(x.sizes(), x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "bias_gelu_forward", [&] {
    using Vec = Vectorized<scalar_t>;
    const scalar_t *in = x.const_data_ptr<scalar_t>(), *b = bias.const_data_ptr<scalar_t>();
    scalar_t* out = y.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, rows, grain_rows(features), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        at::vec::map2([&](Vec v, Vec bv) { return Gelu<scalar_t>::value(v + bv, tanh_form); }, out + r * features,
                      in + r * features, b, features);
    });
  });
  return y.to(x_in.scalar_type());
}

std::tuple<at::Tensor, at::Tensor> bias_gelu_backward(const at::Tensor& grad_y_in, const at::Tensor& x_in,
                                                      const at::Tensor& bias_in, c10::string_view approximate) {
  const char* op = "minitransformer::bias_gelu_backward";
  check_cpu_bias_gelu_args(x_in, bias_in, op);
  check_bias_gelu_backward_args(grad_y_in, x_in, op);
  const bool tanh_form = is_tanh(approximate, op);
  const at::Tensor dy = widened(grad_y_in).contiguous(), x = widened(x_in).contiguous();
  const at::Tensor bias = widened(bias_in).contiguous();
  const int64_t features = x.size(-1), rows = x.numel() / features;
  const int64_t blocks = row_blocks(rows);
  at::Tensor dx = empty_output(x.sizes(), x.options());
  at::Tensor partial_db = at::zeros({std::max<int64_t>(blocks, 1), features}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "bias_gelu_backward", [&] {
    using Vec = Vectorized<scalar_t>;
    const scalar_t *grad = dy.const_data_ptr<scalar_t>(), *in = x.const_data_ptr<scalar_t>();
    const scalar_t* b = bias.const_data_ptr<scalar_t>();
    scalar_t *grad_in = dx.mutable_data_ptr<scalar_t>(), *db = partial_db.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, blocks, 1, [&](int64_t block_begin, int64_t block_end) {
      for (int64_t block = block_begin; block < block_end; ++block) {
        scalar_t* block_db = db + block * features;
        for (int64_t r = block * kRowsPerBlock; r < std::min(rows, (block + 1) * kRowsPerBlock); ++r) {
          scalar_t* row_dx = grad_in + r * features;
          at::vec::map3([&](Vec d, Vec v, Vec bv) { return d * Gelu<scalar_t>::derivative(v + bv, tanh_form); },
                        row_dx, grad + r * features, in + r * features, b, features);
          at::vec::map2([](Vec acc, Vec d) { return acc + d; }, block_db, block_db, row_dx, features);
        }
      }
    });
    add_blocks_in_order(db, blocks, features);
  });
  return {dx.to(x_in.scalar_type()), partial_db[0].to(x_in.scalar_type())};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("bias_gelu_forward", &bias_gelu_forward);
  m.impl("bias_gelu_backward", &bias_gelu_backward);
}

}  // namespace mt::cpu

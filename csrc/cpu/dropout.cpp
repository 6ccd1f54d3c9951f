// Counter-based dropout, optionally added to a residual, on the CPU: y = residual + x m / (1 - p).
//
// The keep mask m is a pure function of (seed, offset, element index), drawn from Philox4x32-10 exactly as
// the NumPy reference does (minitransformer/reference/dropout.py): element i reads word i mod 4 of
// philox(counter = (i/4 low, i/4 high, offset low, offset high), key = (seed low, seed high)) and is kept
// when that word is below floor((1 - p) 2^32). So the backward recomputes the mask instead of storing it,
// and the bits are the same for any thread count (tasks own whole groups of 4 elements).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <array>
#include <cstdint>

#include "cpu/huge_pages.h"

namespace mt::cpu {
namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // Philox round multipliers
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // key schedule (Weyl) increments

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    if (round) {
      k0 += kW0;
      k1 += kW1;
    }
    const uint64_t p0 = uint64_t(kM0) * c[0], p1 = uint64_t(kM1) * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ k0, uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k1, uint32_t(p0)};
  }
  return c;
}

struct DropoutParams {
  uint64_t threshold;  // keep when the word is below it: floor((1 - p) 2^32)
  double scale;        // 1 / (1 - p); 0 when p = 1
  uint32_t seed_lo, seed_hi, offset_lo, offset_hi;
};

DropoutParams make_params(double p, int64_t seed, int64_t offset, const char* op) {
  TORCH_CHECK(p >= 0.0 && p <= 1.0, op, ": p must be in [0, 1], got ", p);
  TORCH_CHECK(seed >= 0 && offset >= 0, op, ": seed and offset must be >= 0, got ", seed, " and ", offset);
  const uint64_t s = uint64_t(seed), o = uint64_t(offset);
  return {uint64_t((1.0 - p) * 4294967296.0), p == 1.0 ? 0.0 : 1.0 / (1.0 - p), uint32_t(s), uint32_t(s >> 32),
          uint32_t(o), uint32_t(o >> 32)};
}

// f(i, keep) for elements [4 group_begin, 4 group_end) clipped to n.
template <typename F>
void for_each_mask(const DropoutParams& params, int64_t n, F&& f) {
  const int64_t groups = (n + 3) / 4;
  at::parallel_for(0, groups, 2048, [&](int64_t begin, int64_t end) {
    for (int64_t group = begin; group < end; ++group) {
      const uint64_t g = uint64_t(group);
      const auto words = philox4x32_10({uint32_t(g), uint32_t(g >> 32), params.offset_lo, params.offset_hi},
                                       params.seed_lo, params.seed_hi);
      for (int64_t lane = 0; lane < 4 && 4 * group + lane < n; ++lane)
        f(4 * group + lane, uint64_t(words[lane]) < params.threshold);
    }
  });
}

void check_float(const at::Tensor& t, const char* name, const char* op) {
  TORCH_CHECK(t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble, op, ": ", name,
              " must be float32 or float64 on the CPU, got ", t.scalar_type());
}

at::Tensor dropout_add_forward(const at::Tensor& x_in, const std::optional<at::Tensor>& residual_in, double p,
                               int64_t seed, int64_t offset) {
  const char* op = "minitransformer::dropout_add_forward";
  check_float(x_in, "x", op);
  const DropoutParams params = make_params(p, seed, offset, op);
  if (residual_in.has_value())
    TORCH_CHECK(residual_in->sizes() == x_in.sizes() && residual_in->scalar_type() == x_in.scalar_type(), op,
                ": residual must have x's shape and dtype, got ", residual_in->sizes(), " and ", x_in.sizes());
  const at::Tensor x = x_in.contiguous();
  const at::Tensor residual = residual_in.has_value() ? residual_in->contiguous() : at::Tensor();
  at::Tensor y = empty_output(x.sizes(), x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "dropout_add_forward", [&] {
    const scalar_t* in = x.const_data_ptr<scalar_t>();
    const scalar_t* res = residual.defined() ? residual.const_data_ptr<scalar_t>() : nullptr;
    scalar_t* out = y.mutable_data_ptr<scalar_t>();
    const scalar_t scale = static_cast<scalar_t>(params.scale);
    for_each_mask(params, x.numel(), [&](int64_t i, bool keep) {
      out[i] = (keep ? in[i] * scale : scalar_t(0)) + (res ? res[i] : scalar_t(0));
    });
  });
  return y;
}

at::Tensor dropout_backward(const at::Tensor& grad_y_in, double p, int64_t seed, int64_t offset) {
  const char* op = "minitransformer::dropout_backward";
  check_float(grad_y_in, "grad_y", op);
  const DropoutParams params = make_params(p, seed, offset, op);
  const at::Tensor dy = grad_y_in.contiguous();
  at::Tensor dx = empty_output(dy.sizes(), dy.options());
  AT_DISPATCH_FLOATING_TYPES(dy.scalar_type(), "dropout_backward", [&] {
    const scalar_t* grad = dy.const_data_ptr<scalar_t>();
    scalar_t* out = dx.mutable_data_ptr<scalar_t>();
    const scalar_t scale = static_cast<scalar_t>(params.scale);
    for_each_mask(params, dy.numel(), [&](int64_t i, bool keep) { out[i] = keep ? grad[i] * scale : scalar_t(0); });
  });
  return dx;
}

// The keep mask itself (bool, x's shape), for tests and for readers who want to look at it.
at::Tensor dropout_mask(at::IntArrayRef shape, double p, int64_t seed, int64_t offset) {
  const DropoutParams params = make_params(p, seed, offset, "minitransformer::dropout_mask");
  at::Tensor mask = at::empty(shape, at::TensorOptions().dtype(at::kBool));
  bool* out = mask.mutable_data_ptr<bool>();
  for_each_mask(params, mask.numel(), [&](int64_t i, bool keep) { out[i] = keep; });
  return mask;
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("dropout_add_forward", &dropout_add_forward);
  m.impl("dropout_backward", &dropout_backward);
}

TORCH_LIBRARY_IMPL(minitransformer, CompositeExplicitAutograd, m) { m.impl("dropout_mask", &dropout_mask); }

}  // namespace mt::cpu

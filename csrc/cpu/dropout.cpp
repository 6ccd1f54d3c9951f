// Counter-based dropout, optionally added to a residual, on the CPU: y = residual + x m / (1 - p).
//
// The keep mask m is a pure function of (seed, offset, element index), drawn from Philox4x32-10 exactly as
// the NumPy reference does (minitransformer/reference/dropout.py): element i reads word i mod 4 of
// philox(counter = (i/4 low, i/4 high, offset low, offset high), key = (seed low, seed high)) and is kept
// when that word is below floor((1 - p) 2^32). So the backward recomputes the mask instead of storing it,
// and the bits are the same for any thread count (tasks own whole batches of Philox calls). Each element is
// kernels/philox.cuh:dropout_element, which the CUDA ladder calls too: y is the same bits there. bfloat16 and
// float16 elements are read and written in place, the arithmetic in float32 (one rounding per element).
#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>

#include "cpu/huge_pages.h"
#include "cpu/philox_lanes.h"
#include "cpu/rows.h"
#include "dropout_args.h"

namespace mt::cpu {
namespace {

constexpr int64_t kGroupsPerBatch = 64;  // Philox calls computed side by side, in SIMD lanes

// The words of Philox calls first_group .. first_group + count - 1 (count <= kGroupsPerBatch) into
// words[4 j + lane]: kernels/philox.cuh's rounds, run by cpu/philox_lanes.h over the independent calls.
void philox_batch(const DropoutParams& params, uint64_t first_group, int64_t count, uint32_t* words) {
  uint32_t c0[kGroupsPerBatch], c1[kGroupsPerBatch], c2[kGroupsPerBatch], c3[kGroupsPerBatch];
  for (int64_t j = 0; j < count; ++j) {
    const uint64_t group = first_group + uint64_t(j);
    c0[j] = uint32_t(group);
    c1[j] = uint32_t(group >> 32);
    c2[j] = params.offset_lo;
    c3[j] = params.offset_hi;
  }
  philox_rounds(c0, c1, c2, c3, count, params.seed_lo, params.seed_hi);
  for (int64_t j = 0; j < count; ++j) {
    words[4 * j] = c0[j];
    words[4 * j + 1] = c1[j];
    words[4 * j + 2] = c2[j];
    words[4 * j + 3] = c3[j];
  }
}

// apply(begin, end, words) for consecutive element ranges covering [0, n), words[i - begin] being element
// i's word. Tasks own whole batches of Philox calls, so the words do not depend on the thread count.
template <typename Apply>
void for_each_batch(const DropoutParams& params, int64_t n, Apply&& apply) {
  const int64_t groups = (n + 3) / 4, batches = (groups + kGroupsPerBatch - 1) / kGroupsPerBatch;
  at::parallel_for(0, batches, 32, [&](int64_t batch_begin, int64_t batch_end) {
    uint32_t words[4 * kGroupsPerBatch];
    for (int64_t batch = batch_begin; batch < batch_end; ++batch) {
      const int64_t first_group = batch * kGroupsPerBatch;
      philox_batch(params, uint64_t(first_group), std::min(kGroupsPerBatch, groups - first_group), words);
      apply(4 * first_group, std::min(n, 4 * (first_group + kGroupsPerBatch)), words);
    }
  });
}

at::Tensor dropout_add_forward(const at::Tensor& x_in, const std::optional<at::Tensor>& residual_in, double p,
                               int64_t seed, int64_t offset) {
  const char* op = "minitransformer::dropout_add_forward";
  check_cpu_float(x_in, "x", op);
  const DropoutParams params = make_dropout_params(p, seed, offset, op);
  check_dropout_residual(x_in, residual_in, op);
  const at::Tensor x = x_in.contiguous();
  const at::Tensor residual = residual_in.has_value() ? residual_in->contiguous() : at::Tensor();
  at::Tensor y = empty_output(x.sizes(), x.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "dropout_add_forward", [&] {
    using acc_t = at::opmath_type<scalar_t>;  // float32 for bfloat16 and float16: one rounding per element
    const scalar_t* in = x.const_data_ptr<scalar_t>();
    const scalar_t* res = residual.defined() ? residual.const_data_ptr<scalar_t>() : nullptr;
    scalar_t* out = y.mutable_data_ptr<scalar_t>();
    const acc_t scale = static_cast<acc_t>(params.scale);
    const uint64_t threshold = params.threshold;
    for_each_batch(params, x.numel(), [&](int64_t begin, int64_t end, const uint32_t* words) {
      for (int64_t i = begin; i < end; ++i) {
        const bool keep = words[i - begin] < threshold;
        out[i] = static_cast<scalar_t>(dropout_element(acc_t(in[i]), res ? acc_t(res[i]) : acc_t(0), res != nullptr,
                                                       keep, scale));
      }
    });
  });
  return y;
}

at::Tensor dropout_backward(const at::Tensor& grad_y_in, double p, int64_t seed, int64_t offset) {
  const char* op = "minitransformer::dropout_backward";
  check_cpu_float(grad_y_in, "grad_y", op);
  const DropoutParams params = make_dropout_params(p, seed, offset, op);
  const at::Tensor dy = grad_y_in.contiguous();
  at::Tensor dx = empty_output(dy.sizes(), dy.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, dy.scalar_type(), "dropout_backward", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const scalar_t* grad = dy.const_data_ptr<scalar_t>();
    scalar_t* out = dx.mutable_data_ptr<scalar_t>();
    const acc_t scale = static_cast<acc_t>(params.scale);
    const uint64_t threshold = params.threshold;
    for_each_batch(params, dy.numel(), [&](int64_t begin, int64_t end, const uint32_t* words) {
      for (int64_t i = begin; i < end; ++i)
        out[i] = static_cast<scalar_t>(dropout_element(acc_t(grad[i]), acc_t(0), false, words[i - begin] < threshold,
                                                       scale));
    });
  });
  return dx;
}

// The keep mask itself (bool, x's shape), for tests and for readers who want to look at it.
at::Tensor dropout_mask(at::IntArrayRef shape, double p, int64_t seed, int64_t offset) {
  const DropoutParams params = make_dropout_params(p, seed, offset, "minitransformer::dropout_mask");
  at::Tensor mask = at::empty(shape, at::TensorOptions().dtype(at::kBool));
  bool* out = mask.mutable_data_ptr<bool>();
  for_each_batch(params, mask.numel(), [&](int64_t begin, int64_t end, const uint32_t* words) {
    for (int64_t i = begin; i < end; ++i) out[i] = uint64_t(words[i - begin]) < params.threshold;
  });
  return mask;
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("dropout_add_forward", &dropout_add_forward);
  m.impl("dropout_backward", &dropout_backward);
}

TORCH_LIBRARY_IMPL(minitransformer, CompositeExplicitAutograd, m) { m.impl("dropout_mask", &dropout_mask); }

}  // namespace mt::cpu

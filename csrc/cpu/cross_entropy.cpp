// Cross-entropy over the classes fused with its log-softmax, on the CPU: at::vec inside at::parallel_for
// over rows. Row r has logits x (C classes), target y and smoothed target q = (1 - eps) one_hot(y) + eps / C:
//
//   forward:  m = max_c x_c,  l = log sum_c exp(x_c - m)    (logsumexp(x) = m + l)
//             loss = l + (1 - eps)(m - x_y) + eps (m - mean_c x_c)
//   backward: dx_c = g (exp((x_c - m) - l) - q_c)            (g = dL/dloss of the row)
//
// The forward reads each row twice (max; then exp-sum and, with smoothing, the plain sum) and writes three
// numbers per row: its loss, m and l, which the backward reuses so that it needs one pass per row and never
// the softmax probabilities. m and l are kept apart, not added into the logsumexp: x_c - m is exact for the
// classes that matter, while x_c - (m + l) in float32 would lose the bits of m's rounding (at logits ~1e3,
// 1e-4 of the gradient). Rows whose target is ignore_index have loss 0 and gradient 0. bfloat16 and float16
// logits are widened to float32 (rows.h: widened): m and l are float32 for them, the losses and the gradient
// are rounded to the logits' dtype. cross_entropy_backward_ writes the same gradient over the logits, and
// cross_entropy_bias_gradient_ does that for x + b, a linear layer's output before its bias, summing db too.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "cpu/huge_pages.h"
#include "cpu/rows.h"
#include "cross_entropy_args.h"

namespace mt::cpu {
namespace {

using at::vec::Vectorized;

struct RowStats {
  double max, log_sum, sum;  // m, l = log sum exp(x - m), and sum_c x_c (only with label smoothing)
};

template <typename scalar_t>
RowStats row_stats(const scalar_t* x, int64_t classes, bool with_sum) {
  using Vec = Vectorized<scalar_t>;
  const scalar_t row_max = at::vec::reduce_all<scalar_t>(
      [](const Vec& a, const Vec& b) { return at::vec::maximum(a, b); }, x, classes);
  const Vec max_vec(row_max);
  Vec exp_sum(scalar_t(0)), plain_sum(scalar_t(0));
  int64_t c = 0;
  for (; c + Vec::size() <= classes; c += Vec::size()) {
    const Vec v = Vec::loadu(x + c);
    exp_sum += (v - max_vec).exp_u20();
    if (with_sum) plain_sum += v;
  }
  auto add = [](const Vec& a, const Vec& b) { return a + b; };
  scalar_t total_exp = at::vec::vec_reduce_all<scalar_t>(add, exp_sum);
  scalar_t total = with_sum ? at::vec::vec_reduce_all<scalar_t>(add, plain_sum) : scalar_t(0);
  for (; c < classes; ++c) {
    total_exp += std::exp(x[c] - row_max);
    total += x[c];
  }
  return {static_cast<double>(row_max), std::log(static_cast<double>(total_exp)), static_cast<double>(total)};
}

// The loss of a row whose target logit is x_target: l + (1 - eps)(m - x_y) + eps (m - mean_c x_c).
inline double row_loss(const RowStats& stats, double x_target, double eps, int64_t classes) {
  const double smoothing_term = eps > 0 ? eps * (stats.max - stats.sum / double(classes)) : 0.0;
  return stats.log_sum + (1 - eps) * (stats.max - x_target) + smoothing_term;
}

// out = dx of one row, g (exp((x - m) - l) - q) with q the smoothed target; out may be x itself.
template <typename scalar_t>
void row_gradient(scalar_t* out, const scalar_t* x, int64_t classes, scalar_t m, scalar_t l, scalar_t g,
                  scalar_t eps, int64_t target) {
  using Vec = Vectorized<scalar_t>;
  const Vec m_vec(m), l_vec(l), g_vec(g), g_smooth(g * eps / scalar_t(classes));
  at::vec::map([&](Vec v) { return g_vec * ((v - m_vec) - l_vec).exp_u20() - g_smooth; }, out, x, classes);
  out[target] -= g * (1 - eps);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> cross_entropy_forward(const at::Tensor& logits_in, const at::Tensor& targets_in,
                                                         int64_t ignore_index, double label_smoothing) {
  const char* op = "minitransformer::cross_entropy_forward";
  check_cross_entropy_args(logits_in, targets_in, label_smoothing, op);
  check_cpu_float(logits_in, "logits", op);
  const at::Tensor logits = widened(logits_in).contiguous(), targets = targets_in.contiguous();
  const int64_t rows = logits.size(0), classes = logits.size(1);
  at::Tensor losses = at::empty({rows}, logits.options());
  at::Tensor row_max = at::empty({rows}, logits.options()), log_sum = at::empty({rows}, logits.options());
  const int64_t* target = targets.const_data_ptr<int64_t>();
  check_targets_in_range(target, rows, classes, ignore_index, op);
  AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "cross_entropy", [&] {
    const scalar_t* x = logits.const_data_ptr<scalar_t>();
    scalar_t* loss = losses.mutable_data_ptr<scalar_t>();
    scalar_t* max_out = row_max.mutable_data_ptr<scalar_t>();
    scalar_t* log_sum_out = log_sum.mutable_data_ptr<scalar_t>();
    const double eps = label_smoothing;
    at::parallel_for(0, rows, grain_rows(classes), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const scalar_t* row = x + r * classes;
        const RowStats stats = row_stats(row, classes, eps > 0);
        max_out[r] = static_cast<scalar_t>(stats.max);
        log_sum_out[r] = static_cast<scalar_t>(stats.log_sum);
        loss[r] = target[r] == ignore_index
                      ? scalar_t(0)
                      : static_cast<scalar_t>(row_loss(stats, double(row[target[r]]), eps, classes));
      }
    });
  });
  return {losses.to(logits_in.scalar_type()), row_max, log_sum};
}

// Checks of the backward's arguments against logits_in (rows, classes).
void check_backward_args(const at::Tensor& logits_in, const at::Tensor& targets_in, const at::Tensor& row_max_in,
                         const at::Tensor& log_sum_in, const at::Tensor& grad_losses_in, double label_smoothing,
                         const char* op) {
  check_cross_entropy_args(logits_in, targets_in, label_smoothing, op);
  const int64_t rows = logits_in.size(0);
  const at::ScalarType stats_dtype = compute_dtype(logits_in.scalar_type());
  for (const auto* per_row : {&row_max_in, &log_sum_in, &grad_losses_in})
    TORCH_CHECK(per_row->dim() == 1 && per_row->size(0) == rows, op, ": row_max, log_sum and grad_losses must be (",
                rows, ",), got ", per_row->sizes());
  TORCH_CHECK(row_max_in.scalar_type() == stats_dtype && log_sum_in.scalar_type() == stats_dtype, op,
              ": row_max and log_sum must be ", stats_dtype, " for logits of dtype ", logits_in.scalar_type());
  TORCH_CHECK(grad_losses_in.scalar_type() == logits_in.scalar_type(), op, ": grad_losses must have logits' dtype ",
              logits_in.scalar_type(), ", got ", grad_losses_in.scalar_type());
}

// grad_logits = d loss / d logits for contiguous float32 or float64 logits; grad_logits may be logits itself
// (each element is read before it is written, by the same thread).
void write_gradient(const at::Tensor& logits, const at::Tensor& targets_in, const at::Tensor& row_max_in,
                    const at::Tensor& log_sum_in, const at::Tensor& grad_losses_in, int64_t ignore_index,
                    double label_smoothing, at::Tensor& grad_logits) {
  const int64_t rows = logits.size(0), classes = logits.size(1);
  const at::Tensor targets = targets_in.contiguous();
  const at::Tensor row_max = row_max_in.contiguous(), log_sum = log_sum_in.contiguous();
  const at::Tensor grad_losses = widened(grad_losses_in).contiguous();
  AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "cross_entropy", [&] {
    const scalar_t* x = logits.const_data_ptr<scalar_t>();
    const int64_t* target = targets.const_data_ptr<int64_t>();
    const scalar_t* max_in = row_max.const_data_ptr<scalar_t>();
    const scalar_t* log_sum_of = log_sum.const_data_ptr<scalar_t>();
    const scalar_t* grad = grad_losses.const_data_ptr<scalar_t>();
    scalar_t* dx = grad_logits.mutable_data_ptr<scalar_t>();
    const scalar_t eps = static_cast<scalar_t>(label_smoothing);
    at::parallel_for(0, rows, grain_rows(classes), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        scalar_t* out = dx + r * classes;
        if (target[r] == ignore_index) {
          std::fill(out, out + classes, scalar_t(0));
          continue;
        }
        row_gradient(out, x + r * classes, classes, max_in[r], log_sum_of[r], grad[r], eps, target[r]);
      }
    });
  });
}

at::Tensor cross_entropy_backward(const at::Tensor& logits_in, const at::Tensor& targets,
                                  const at::Tensor& row_max, const at::Tensor& log_sum,
                                  const at::Tensor& grad_losses, int64_t ignore_index, double label_smoothing) {
  check_backward_args(logits_in, targets, row_max, log_sum, grad_losses, label_smoothing,
                      "minitransformer::cross_entropy_backward");
  const at::Tensor logits = widened(logits_in).contiguous();
  at::Tensor grad_logits = empty_output(logits.sizes(), logits.options());
  write_gradient(logits, targets, row_max, log_sum, grad_losses, ignore_index, label_smoothing, grad_logits);
  return grad_logits.to(logits_in.scalar_type());
}

// In place: float32 and float64 logits that are contiguous are overwritten directly; others (bfloat16 and
// float16, computed in float32; strided views) get the gradient computed apart and copied back.
void cross_entropy_backward_(at::Tensor& logits, const at::Tensor& targets, const at::Tensor& row_max,
                             const at::Tensor& log_sum, const at::Tensor& grad_losses, int64_t ignore_index,
                             double label_smoothing) {
  check_backward_args(logits, targets, row_max, log_sum, grad_losses, label_smoothing,
                      "minitransformer::cross_entropy_backward_");
  const bool full_precision = logits.scalar_type() == at::kFloat || logits.scalar_type() == at::kDouble;
  if (full_precision && logits.is_contiguous()) {
    write_gradient(logits, targets, row_max, log_sum, grad_losses, ignore_index, label_smoothing, logits);
    return;
  }
  logits.copy_(cross_entropy_backward(logits, targets, row_max, log_sum, grad_losses, ignore_index,
                                      label_smoothing));
}

// Rows of a linear layer's output before its bias (a chunk of nn/linear_cross_entropy.py): row r becomes
// x_r + b, then its loss and, in place, dx_r = g_r (softmax(x_r + b) - one_hot(y_r)) as above, and
// grad_bias += sum_r dx_r (row blocks summed in a fixed order, rows.h). The bias is added, and its gradient
// summed, while the row is in the cache for the loss's own passes, instead of a copy of the bias into the
// (rows, classes) product before it and a sum over its rows after. Losses and gradient: the bits of adding
// the bias first and then running cross_entropy_forward and cross_entropy_backward_, which is what other
// dtypes and strided logits get.
at::Tensor cross_entropy_bias_gradient_(at::Tensor& logits, const at::Tensor& targets_in, const at::Tensor& bias_in,
                                        const at::Tensor& grad_losses_in, at::Tensor& grad_bias,
                                        int64_t ignore_index) {
  const char* op = "minitransformer::cross_entropy_bias_gradient_";
  check_cross_entropy_args(logits, targets_in, 0.0, op);
  check_cpu_float(logits, "logits", op);
  const int64_t rows = logits.size(0), classes = logits.size(1);
  TORCH_CHECK(bias_in.dim() == 1 && bias_in.size(0) == classes && grad_bias.sizes() == bias_in.sizes(), op,
              ": bias and grad_bias must be (classes,) = (", classes, ",), got ", bias_in.sizes(), " and ",
              grad_bias.sizes());
  TORCH_CHECK(grad_losses_in.dim() == 1 && grad_losses_in.size(0) == rows, op, ": grad_losses must be (rows,) = (",
              rows, ",), got ", grad_losses_in.sizes());
  for (const at::Tensor* same : {&bias_in, static_cast<const at::Tensor*>(&grad_bias), &grad_losses_in})
    TORCH_CHECK(same->scalar_type() == logits.scalar_type() && same->device() == logits.device(), op,
                ": bias, grad_bias and grad_losses must have logits' dtype and device, got ", same->scalar_type(),
                " on ", same->device(), " for ", logits.scalar_type(), " on ", logits.device());
  const bool full_precision = logits.scalar_type() == at::kFloat || logits.scalar_type() == at::kDouble;
  if (!full_precision || !logits.is_contiguous() || !grad_bias.is_contiguous()) {
    logits.add_(bias_in);
    auto [losses, row_max, log_sum] = cross_entropy_forward(logits, targets_in, ignore_index, 0.0);
    cross_entropy_backward_(logits, targets_in, row_max, log_sum, grad_losses_in, ignore_index, 0.0);
    grad_bias.add_(logits.sum(0));
    return losses;
  }
  const at::Tensor targets = targets_in.contiguous(), bias = bias_in.contiguous(),
                   grad_losses = grad_losses_in.contiguous();
  const int64_t* target = targets.const_data_ptr<int64_t>();
  check_targets_in_range(target, rows, classes, ignore_index, op);
  at::Tensor losses = at::empty({rows}, logits.options());
  const int64_t blocks = row_blocks(rows);
  at::Tensor partial = at::zeros({std::max<int64_t>(blocks, 1), classes}, logits.options());  // per row block
  AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "cross_entropy_bias_gradient_", [&] {
    using Vec = Vectorized<scalar_t>;
    scalar_t* x = logits.mutable_data_ptr<scalar_t>();
    const scalar_t* b = bias.const_data_ptr<scalar_t>();
    const scalar_t* grad = grad_losses.const_data_ptr<scalar_t>();
    scalar_t* loss = losses.mutable_data_ptr<scalar_t>();
    scalar_t* sums = partial.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t block = begin; block < end; ++block) {
        scalar_t* block_sum = sums + block * classes;
        for (int64_t r = block * kRowsPerBlock; r < std::min(rows, (block + 1) * kRowsPerBlock); ++r) {
          scalar_t* row = x + r * classes;
          at::vec::map2([](Vec v, Vec bias_part) { return v + bias_part; }, row, row, b, classes);
          if (target[r] == ignore_index) {
            loss[r] = scalar_t(0);
            std::fill(row, row + classes, scalar_t(0));
            continue;
          }
          const RowStats stats = row_stats(row, classes, false);
          loss[r] = static_cast<scalar_t>(row_loss(stats, double(row[target[r]]), 0.0, classes));
          row_gradient(row, row, classes, static_cast<scalar_t>(stats.max), static_cast<scalar_t>(stats.log_sum),
                       grad[r], scalar_t(0), target[r]);
          at::vec::map2([](Vec sum, Vec d) { return sum + d; }, block_sum, block_sum, row, classes);
        }
      }
    });
    add_blocks_in_order(sums, blocks, classes);
  });
  grad_bias.add_(partial[0]);
  return losses;
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("cross_entropy_forward", &cross_entropy_forward);
  m.impl("cross_entropy_backward", &cross_entropy_backward);
  m.impl("cross_entropy_backward_", &cross_entropy_backward_);
  m.impl("cross_entropy_bias_gradient_", &cross_entropy_bias_gradient_);
}

}  // namespace mt::cpu

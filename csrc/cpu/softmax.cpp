// Softmax on the CPU: at::vec (AVX2 when built with it) inside at::parallel_for over rows.
//
//   forward:  y_i = exp(x_i - m) / s,   m = max_j x_j,   s = sum_j exp(x_j - m)
//   backward: dx_i = y_i (dy_i - sum_j y_j dy_j)
//
// Per row, three passes that stay in L1/L2 (a 4096-float row is 16 KiB): the max, then exp(x - m)
// written into y while summing, then y *= 1/s. Memory sees one read of x and one write of y. Large
// outputs are allocated on huge pages (cpu/huge_pages.h): their page faults cost more than the math.
// bfloat16 and float16 rows are widened into a float32 row buffer first, computed there, and rounded once.
// A row whose entries are all -inf has no distribution; its output is defined as zeros (torch.softmax
// gives NaN).
#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>
#include <torch/library.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "cpu/huge_pages.h"
#include "cpu/rows.h"
#include "softmax_args.h"

namespace mt::cpu {
namespace {

using at::vec::Vectorized;

template <typename scalar_t>
void softmax_row(const scalar_t* x, scalar_t* y, int64_t cols) {
  using Vec = Vectorized<scalar_t>;
  const scalar_t row_max = at::vec::reduce_all<scalar_t>(
      [](const Vec& a, const Vec& b) { return at::vec::maximum(a, b); }, x, cols);
  if (row_max == -std::numeric_limits<scalar_t>::infinity()) {
    std::fill(y, y + cols, scalar_t(0));
    return;
  }
  const Vec max_vec(row_max);
  Vec sum_vec(scalar_t(0));
  int64_t j = 0;
  for (; j + Vec::size() <= cols; j += Vec::size()) {
    const Vec e = (Vec::loadu(x + j) - max_vec).exp_u20();
    e.store(y + j);
    sum_vec += e;
  }
  scalar_t sum =
      at::vec::vec_reduce_all<scalar_t>([](const Vec& a, const Vec& b) { return a + b; }, sum_vec);
  for (; j < cols; ++j) {
    y[j] = std::exp(x[j] - row_max);
    sum += y[j];
  }
  const Vec inv_sum(scalar_t(1) / sum);
  at::vec::map([&inv_sum](Vec v) { return v * inv_sum; }, y, y, cols);
}

template <typename scalar_t>
void softmax_backward_row(const scalar_t* y, const scalar_t* dy, scalar_t* dx, int64_t cols) {
  using Vec = Vectorized<scalar_t>;
  const scalar_t dot = at::vec::map2_reduce_all<scalar_t>(
      [](Vec a, Vec b) { return a * b; }, [](Vec a, Vec b) { return a + b; }, y, dy, cols);
  const Vec dot_vec(dot);
  at::vec::map2([&dot_vec](Vec yv, Vec dyv) { return yv * (dyv - dot_vec); }, dx, y, dy, cols);
}

// Runs row_fn(in rows..., out row, cols) over `rows` rows of `cols` elements. float32 and float64 rows go
// straight to row_fn; a bfloat16 or float16 row is widened into a per-thread float32 buffer, row_fn works in
// place there, and the result is rounded once into the output row. The buffers stay in L1/L2.
template <typename scalar_t, int kInputs, typename RowFn>
void for_each_row(const std::array<const scalar_t*, kInputs>& in, scalar_t* out, int64_t rows, int64_t cols,
                  const RowFn& row_fn) {
  using acc_t = at::opmath_type<scalar_t>;
  at::parallel_for(0, rows, grain_rows(cols), [&](int64_t begin, int64_t end) {
    if constexpr (std::is_same_v<scalar_t, acc_t>) {
      for (int64_t r = begin; r < end; ++r) {
        if constexpr (kInputs == 1) row_fn(in[0] + r * cols, out + r * cols, cols);
        else row_fn(in[0] + r * cols, in[1] + r * cols, out + r * cols, cols);
      }
    } else {
      std::vector<acc_t> buffer(kInputs * cols);  // (kInputs, cols); the result overwrites the last input
      for (int64_t r = begin; r < end; ++r) {
        for (int i = 0; i < kInputs; ++i) at::vec::convert(in[i] + r * cols, buffer.data() + i * cols, cols);
        acc_t* last = buffer.data() + (kInputs - 1) * cols;
        if constexpr (kInputs == 1) row_fn(last, last, cols);
        else row_fn(buffer.data(), last, last, cols);
        at::vec::convert(last, out + r * cols, cols);
      }
    }
  });
}

at::Tensor softmax(const at::Tensor& x, int64_t dim) {
  dim = checked_softmax_dim(x, dim, "minitransformer::softmax");
  check_cpu_float(x, "x", "minitransformer::softmax");
  const at::Tensor rows = as_rows(x, dim);
  at::Tensor y = empty_output(rows.sizes(), rows.options());
  const int64_t cols = rows.size(-1);
  if (rows.numel() == 0) return from_rows(y, dim);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "minitransformer::softmax", [&] {
    for_each_row<scalar_t, 1>({rows.const_data_ptr<scalar_t>()}, y.mutable_data_ptr<scalar_t>(), rows.numel() / cols,
                              cols, [](const auto* in, auto* out, int64_t n) { softmax_row(in, out, n); });
  });
  return from_rows(y, dim);
}

at::Tensor softmax_backward(const at::Tensor& y, const at::Tensor& grad_y, int64_t dim) {
  dim = checked_softmax_dim(y, dim, "minitransformer::softmax_backward");
  check_same_layout(y, grad_y, "minitransformer::softmax_backward", "y", "grad_y");
  check_cpu_float(y, "x", "minitransformer::softmax_backward");
  const at::Tensor y_rows = as_rows(y, dim);
  const at::Tensor dy_rows = as_rows(grad_y, dim);
  at::Tensor dx = empty_output(y_rows.sizes(), y_rows.options());
  const int64_t cols = y_rows.size(-1);
  if (y_rows.numel() == 0) return from_rows(dx, dim);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, y.scalar_type(), "minitransformer::softmax_backward", [&] {
    for_each_row<scalar_t, 2>({y_rows.const_data_ptr<scalar_t>(), dy_rows.const_data_ptr<scalar_t>()},
                              dx.mutable_data_ptr<scalar_t>(), y_rows.numel() / cols, cols,
                              [](const auto* y_row, const auto* dy_row, auto* dx_row, int64_t n) {
                                softmax_backward_row(y_row, dy_row, dx_row, n);
                              });
  });
  return from_rows(dx, dim);
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("softmax", &softmax);
  m.impl("softmax_backward", &softmax_backward);
}

}  // namespace mt::cpu

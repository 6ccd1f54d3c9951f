// Layer normalisation over the last dimension on the CPU: at::vec inside at::parallel_for over rows.
// Row r of x has D features; gamma, beta are (D,):
//
//   forward:  mu = mean(x),  rstd = 1 / sqrt(mean((x - mu)^2) + eps),  xh = (x - mu) rstd,  y = xh gamma + beta
//   backward: g = dy gamma,  dx = rstd (g - mean(g) - xh mean(g xh))
//             dgamma = sum_rows dy xh,  dbeta = sum_rows dy                    (a reduction across rows)
//
// Forward: three passes over a row (the mean, the variance about it, y), all but the first from L1.
// Backward: two (mean(g) and mean(g xh); then dx, with the row's dy xh and dy added to the parameter sums).
// When what a pass reads and writes (forward: x and y; backward: dy, x and dx) does not fit in the last-level
// cache, its output is written with streaming stores (streaming_stores.h): the backward at 4096 x 768 takes
// 0.78-0.84 of its time with ordinary stores on our machines; the forward there moves too little to stream.
//
// The forward saves mu and rstd per row (two floats) so that the backward rebuilds xh instead of storing
// it. The parameter gradients are summed in blocks of kRowsPerBlock rows, then the blocks in order: the
// same additions in the same order for any thread count, so the bits do not depend on it. bfloat16 and float16
// tensors are widened to float32 (rows.h: widened); mu and rstd are float32 for them, y and the gradients are
// rounded to the input dtype.
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
#include "cpu/streaming_stores.h"
#include "layer_norm_args.h"

namespace mt::cpu {
namespace {

using at::vec::Vectorized;

void check_cpu_layer_norm_args(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                               const char* op) {
  check_layer_norm_args(x, weight, bias, op);
  check_cpu_float(x, "x", op);
}

template <typename scalar_t>
void layer_norm_row(const scalar_t* x, const scalar_t* gamma, const scalar_t* beta, scalar_t* y, scalar_t* mean_out,
                    scalar_t* rstd_out, int64_t features, double eps, bool streaming) {
  using Vec = Vectorized<scalar_t>;
  auto add = [](Vec a, Vec b) { return a + b; };
  const scalar_t mean = at::vec::reduce_all<scalar_t>(add, x, features) / scalar_t(features);
  const Vec mean_vec(mean);
  const scalar_t variance = at::vec::map_reduce_all<scalar_t>(
      [&](Vec v) { return (v - mean_vec) * (v - mean_vec); }, add, x, features) / scalar_t(features);
  const scalar_t rstd = scalar_t(1) / std::sqrt(variance + scalar_t(eps));
  const Vec rstd_vec(rstd);
  map3([&](Vec v, Vec g, Vec b) { return (v - mean_vec) * rstd_vec * g + b; }, y, x, gamma, beta, features,
       streaming);
  *mean_out = mean;
  *rstd_out = rstd;
}

// dx for one row, and the row's terms of the parameter gradients added to the block's partial sums
// (dgamma += dy xh, dbeta += dy) in the same pass that writes dx: two passes over the row in all.
template <typename scalar_t>
void layer_norm_backward_row(const scalar_t* dy, const scalar_t* x, const scalar_t* gamma, scalar_t mean,
                             scalar_t rstd, scalar_t* dx, scalar_t* block_dgamma, scalar_t* block_dbeta,
                             int64_t features, bool streaming) {
  using Vec = Vectorized<scalar_t>;
  const Vec mean_vec(mean), rstd_vec(rstd);
  Vec sum_g(scalar_t(0)), sum_g_xh(scalar_t(0));
  int64_t f = 0;
  for (; f + Vec::size() <= features; f += Vec::size()) {
    const Vec g = Vec::loadu(dy + f) * Vec::loadu(gamma + f);
    sum_g += g;
    sum_g_xh += g * ((Vec::loadu(x + f) - mean_vec) * rstd_vec);
  }
  auto add = [](Vec a, Vec b) { return a + b; };
  scalar_t total_g = at::vec::vec_reduce_all<scalar_t>(add, sum_g);
  scalar_t total_g_xh = at::vec::vec_reduce_all<scalar_t>(add, sum_g_xh);
  for (; f < features; ++f) {
    const scalar_t g = dy[f] * gamma[f];
    total_g += g;
    total_g_xh += g * (x[f] - mean) * rstd;
  }
  const scalar_t mean_g = total_g / scalar_t(features), mean_g_xh = total_g_xh / scalar_t(features);
  const Vec mean_g_vec(mean_g), mean_g_xh_vec(mean_g_xh);
  const bool streaming_dx = stream_row(dx, streaming);
  for (f = 0; f + Vec::size() <= features; f += Vec::size()) {
    const Vec d = Vec::loadu(dy + f), xh = (Vec::loadu(x + f) - mean_vec) * rstd_vec;
    store(rstd_vec * (d * Vec::loadu(gamma + f) - mean_g_vec - xh * mean_g_xh_vec), dx + f, streaming_dx);
    (Vec::loadu(block_dgamma + f) + d * xh).store(block_dgamma + f);
    (Vec::loadu(block_dbeta + f) + d).store(block_dbeta + f);
  }
  for (; f < features; ++f) {
    const scalar_t xh = (x[f] - mean) * rstd;
    dx[f] = rstd * (dy[f] * gamma[f] - mean_g - xh * mean_g_xh);
    block_dgamma[f] += dy[f] * xh;
    block_dbeta[f] += dy[f];
  }
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> layer_norm_forward(const at::Tensor& x_in, const at::Tensor& weight_in,
                                                                  const at::Tensor& bias_in, double eps) {
  check_cpu_layer_norm_args(x_in, weight_in, bias_in, "minitransformer::layer_norm_forward");
  TORCH_CHECK(eps > 0, "minitransformer::layer_norm_forward: eps must be positive, got ", eps);
  const at::Tensor x = widened(x_in).contiguous(), weight = widened(weight_in).contiguous();
  const at::Tensor bias = widened(bias_in).contiguous();
  const int64_t features = x.size(-1), rows = x.numel() / features;
  at::Tensor y = empty_output(x.sizes(), x.options());
  std::vector<int64_t> row_shape(x.sizes().begin(), x.sizes().end() - 1);
  at::Tensor mean = at::empty(row_shape, x.options()), rstd = at::empty(row_shape, x.options());
  const bool streaming = x_in.scalar_type() == x.scalar_type() && streams_output(2 * x.nbytes());  // x and y
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "layer_norm_forward", [&] {
    const scalar_t *in = x.const_data_ptr<scalar_t>(), *gamma = weight.const_data_ptr<scalar_t>();
    const scalar_t* beta = bias.const_data_ptr<scalar_t>();
    scalar_t *out = y.mutable_data_ptr<scalar_t>(), *mean_out = mean.mutable_data_ptr<scalar_t>();
    scalar_t* rstd_out = rstd.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, rows, grain_rows(features), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        layer_norm_row(in + r * features, gamma, beta, out + r * features, mean_out + r, rstd_out + r, features, eps,
                       streaming);
      finish_streaming();
    });
  });
  return {y.to(x_in.scalar_type()), mean, rstd};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> layer_norm_backward(const at::Tensor& grad_y_in, const at::Tensor& x_in,
                                                                   const at::Tensor& weight_in,
                                                                   const at::Tensor& mean_in,
                                                                   const at::Tensor& rstd_in) {
  const char* op = "minitransformer::layer_norm_backward";
  check_cpu_layer_norm_args(x_in, weight_in, weight_in, op);
  check_layer_norm_backward_args(grad_y_in, x_in, mean_in, rstd_in, op);
  const int64_t features = x_in.size(-1), rows = x_in.numel() / features;
  const at::ScalarType stats_dtype = compute_dtype(x_in.scalar_type());
  TORCH_CHECK(mean_in.scalar_type() == stats_dtype && rstd_in.scalar_type() == stats_dtype, op, ": mean and rstd must be ",
              stats_dtype, " for x of dtype ", x_in.scalar_type());
  const at::Tensor dy = widened(grad_y_in).contiguous(), x = widened(x_in).contiguous();
  const at::Tensor weight = widened(weight_in).contiguous();
  const at::Tensor mean = mean_in.contiguous(), rstd = rstd_in.contiguous();
  at::Tensor dx = empty_output(x.sizes(), x.options());
  const int64_t blocks = row_blocks(rows);
  // dx is streamed when it is the output itself (not a float32 copy to be rounded) and dy, x and dx together
  // do not fit in the cache (streaming_stores.h).
  const bool streaming = x_in.scalar_type() == x.scalar_type() && streams_output(3 * x.nbytes());
  at::Tensor partial_dgamma = at::zeros({std::max<int64_t>(blocks, 1), features}, x.options());
  at::Tensor partial_dbeta = at::zeros({std::max<int64_t>(blocks, 1), features}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "layer_norm_backward", [&] {
    const scalar_t *grad = dy.const_data_ptr<scalar_t>(), *in = x.const_data_ptr<scalar_t>();
    const scalar_t *gamma = weight.const_data_ptr<scalar_t>(), *mu = mean.const_data_ptr<scalar_t>();
    const scalar_t* r_std = rstd.const_data_ptr<scalar_t>();
    scalar_t *grad_in = dx.mutable_data_ptr<scalar_t>(), *pg = partial_dgamma.mutable_data_ptr<scalar_t>();
    scalar_t* pb = partial_dbeta.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, blocks, 1, [&](int64_t block_begin, int64_t block_end) {
      for (int64_t block = block_begin; block < block_end; ++block) {
        scalar_t *block_dgamma = pg + block * features, *block_dbeta = pb + block * features;
        for (int64_t r = block * kRowsPerBlock; r < std::min(rows, (block + 1) * kRowsPerBlock); ++r)
          layer_norm_backward_row(grad + r * features, in + r * features, gamma, mu[r], r_std[r],
                                  grad_in + r * features, block_dgamma, block_dbeta, features, streaming);
      }
      finish_streaming();
    });
    add_blocks_in_order(pg, blocks, features);
    add_blocks_in_order(pb, blocks, features);
  });
  const at::ScalarType dtype = x_in.scalar_type();
  return {dx.to(dtype), partial_dgamma[0].to(dtype), partial_dbeta[0].to(dtype)};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("layer_norm_forward", &layer_norm_forward);
  m.impl("layer_norm_backward", &layer_norm_backward);
}

}  // namespace mt::cpu

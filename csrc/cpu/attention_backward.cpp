// Flash attention backward on the CPU (Dao et al., "FlashAttention-2", 2023, Algorithm 2).
//
// With P = exp(scale S - lse) recomputed tile by tile from the saved logsumexp (no N x N matrix kept
// from the forward):
//
//   dV  = P^T dO          dP = dO V^T          Delta_i = rowsum(dO_i * O_i)
//   dS  = P * (dP - Delta) * scale             dQ = dS K          dK = dS^T Q
//
// at::parallel_for runs over (batch, head): one task owns its head's dQ, dK and dV, so the five tile
// products (csrc/cpu/tile_gemm.h) accumulate in place with no atomics or reduction. Inside, key blocks
// form the outer loop, as in FlashAttention-2, so each key and value block is transposed once for S = Q K^T
// and dP = dO V^T, and query blocks the inner one; causal masking skips the query blocks left of the
// diagonal and clips the key block at it. Rows whose keys are
// all masked (lse = -inf) have P = 0 and so contribute nothing. bfloat16 and float16 tensors are widened to
// float32 (lse is float32 for them) and the gradients rounded to the input dtype once, at the end.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <tuple>

#include "attention_args.h"
#include "cpu/attention_tiles.h"
#include "cpu/rows.h"
#include "cpu/tile_gemm.h"

namespace mt::cpu::attention {
namespace {

// Tile sizes, measured best on our 2-core VMs (two q_block x kv_block tiles per thread: P and dS).
constexpr int64_t kQueryBlock = 128;
constexpr int64_t kKeyBlock = 256;

template <typename T>
struct BackwardArgs {
  at::Tensor q, k, v, out, lse, grad_out, grad_q, grad_k, grad_v, bias;
  bool causal;
  T scale;
};

// row[j] = exp(row[j] * scale + bias[j] - lse) for j < n (the probabilities P of one tile row).
template <typename T>
void probabilities_row(T* row, int64_t n, T scale, const T* bias, T lse) {
  using Vec = Vectorized<T>;
  const Vec scale_vec(scale), lse_vec(lse);
  int64_t j = 0;
  for (; j + Vec::size() <= n; j += Vec::size()) {
    Vec x = Vec::loadu(row + j) * scale_vec - lse_vec;
    if (bias) x = x + Vec::loadu(bias + j);
    x.exp_u20().store(row + j);
  }
  for (; j < n; ++j) row[j] = std::exp(row[j] * scale + (bias ? bias[j] : T(0)) - lse);
}

// grad[j] = p[j] * (grad[j] - delta) * scale for j < n: turns dP into dS in place.
template <typename T>
void score_grad_row(const T* p, T* grad, int64_t n, T delta, T scale) {
  using Vec = Vectorized<T>;
  const Vec delta_vec(delta), scale_vec(scale);
  int64_t j = 0;
  for (; j + Vec::size() <= n; j += Vec::size())
    (Vec::loadu(p + j) * (Vec::loadu(grad + j) - delta_vec) * scale_vec).store(grad + j);
  for (; j < n; ++j) grad[j] = p[j] * (grad[j] - delta) * scale;
}

template <typename T>
T dot(const T* a, const T* b, int64_t n) {
  using Vec = Vectorized<T>;
  Vec acc(T(0));
  int64_t j = 0;
  for (; j + Vec::size() <= n; j += Vec::size()) acc = at::vec::fmadd(Vec::loadu(a + j), Vec::loadu(b + j), acc);
  T sum = at::vec::vec_reduce_all<T>([](const Vec& x, const Vec& y) { return x + y; }, acc);
  for (; j < n; ++j) sum += a[j] * b[j];
  return sum;
}

// All gradients of head (b, h). Scratch: probs and grads tiles (q_block x kv_block), a key and a value
// block transposed (dim x kv_block each) and delta (n_q).
template <typename T>
void backward_head(const BackwardArgs<T>& a, int64_t b, int64_t h, int64_t q_block, int64_t kv_block,
                   T* probs, T* grads, T* keys_t, T* values_t, T* delta) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  const int64_t n_q = a.q.size(2), n_k = a.k.size(2), dim = a.q.size(3);
  const HeadView<T> q = head_view<T>(a.q, b, h), k = head_view<T>(a.k, b, h),
                    v = head_view<T>(a.v, b, h), out = head_view<T>(a.out, b, h),
                    d_out = head_view<T>(a.grad_out, b, h), dq = head_view<T>(a.grad_q, b, h),
                    dk = head_view<T>(a.grad_k, b, h), dv = head_view<T>(a.grad_v, b, h);
  const T* lse = data<T>(a.lse) + (b * a.q.size(1) + h) * n_q;
  const T* bias = a.bias.defined() ? data<T>(a.bias) + b * n_k : nullptr;
  for (int64_t i = 0; i < n_q; ++i) std::fill(dq.row(i), dq.row(i) + dim, T(0));  // accumulated below
  for (int64_t j = 0; j < n_k; ++j) {
    std::fill(dk.row(j), dk.row(j) + dim, T(0));
    std::fill(dv.row(j), dv.row(j) + dim, T(0));
  }

  for (int64_t i = 0; i < n_q; ++i) delta[i] = dot(d_out.row(i), out.row(i), dim);
  for (int64_t kv_start = 0; kv_start < n_k; kv_start += kv_block) {
    const int64_t kv_block_len = std::min(kv_block, n_k - kv_start);
    transpose_block(k.row(kv_start), k.ld, kv_block_len, dim, keys_t, kv_block);    // (dim, kv_block_len)
    transpose_block(v.row(kv_start), v.ld, kv_block_len, dim, values_t, kv_block);  // (dim, kv_block_len)
    // Causal: query blocks that end at or before kv_start see none of these keys.
    const int64_t q_first = a.causal ? kv_start / q_block * q_block : 0;
    for (int64_t q_start = q_first; q_start < n_q; q_start += q_block) {
      const int64_t q_len = std::min(q_block, n_q - q_start);
      const int64_t kv_len = a.causal ? std::min(kv_block_len, q_start + q_len - kv_start) : kv_block_len;
      if (kv_len <= 0) continue;  // causal: clipped at the diagonal
      tile_gemm<T>(q_len, kv_len, dim, row_major(q.row(q_start), q.ld), keys_t, kv_block, probs, kv_len, false);
      for (int64_t r = 0; r < q_len; ++r) {
        T* p = probs + r * kv_len;  // (kv_len,)
        const T row_lse = lse[q_start + r];
        const int64_t visible = row_lse == kNegInf ? 0 : visible_keys(a.causal, q_start + r, kv_start, kv_len);
        probabilities_row(p, visible, a.scale, bias ? bias + kv_start : nullptr, row_lse);
        std::fill(p + visible, p + kv_len, T(0));
      }
      // dV_c += P^T dO_b
      tile_gemm<T>(kv_len, dim, q_len, transposed<T>(probs, kv_len), d_out.row(q_start), d_out.ld, dv.row(kv_start),
                   dv.ld, true);
      // dP = dO_b V_c^T, then dS = P (dP - Delta) scale in place
      tile_gemm<T>(q_len, kv_len, dim, row_major(d_out.row(q_start), d_out.ld), values_t, kv_block, grads, kv_len,
                   false);
      for (int64_t r = 0; r < q_len; ++r)
        score_grad_row(probs + r * kv_len, grads + r * kv_len, kv_len, delta[q_start + r], a.scale);
      // dQ_b += dS K_c,  dK_c += dS^T Q_b
      tile_gemm<T>(q_len, dim, kv_len, row_major<T>(grads, kv_len), k.row(kv_start), k.ld, dq.row(q_start), dq.ld,
                   true);
      tile_gemm<T>(kv_len, dim, q_len, transposed<T>(grads, kv_len), q.row(q_start), q.ld, dk.row(kv_start), dk.ld,
                   true);
    }
  }
}

template <typename T>
void backward(const BackwardArgs<T>& a) {
  const int64_t batch = a.q.size(0), heads = a.q.size(1);
  const int64_t q_block = std::min(kQueryBlock, a.q.size(2)), kv_block = std::min(kKeyBlock, a.k.size(2));
  const int64_t dim = a.q.size(3);
  const int64_t per_thread = 2 * q_block * kv_block + 2 * dim * kv_block + a.q.size(2);  // probs, grads, K^T, V^T, delta
  at::Tensor scratch = at::empty({at::get_num_threads(), per_thread}, a.q.options());
  at::parallel_for(0, batch * heads, 1, [&](int64_t begin, int64_t end) {
    T* probs = scratch.data_ptr<T>() + at::get_thread_num() * per_thread;
    T* grads = probs + q_block * kv_block;
    T* keys_t = grads + q_block * kv_block;
    T* values_t = keys_t + dim * kv_block;
    for (int64_t task = begin; task < end; ++task)
      backward_head(a, task / heads, task % heads, q_block, kv_block, probs, grads, keys_t, values_t,
                    values_t + dim * kv_block);
  });
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> attention_backward(
    const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in, const at::Tensor& out_in,
    const at::Tensor& lse, const at::Tensor& grad_out_in, bool causal,
    const std::optional<at::Tensor>& key_padding_mask, std::optional<double> scale) {
  const char* op = "minitransformer::attention_backward";
  check_attention_inputs(q_in, k_in, v_in, key_padding_mask, op);
  check_attention_backward_inputs(q_in, out_in, lse, grad_out_in, op);
  check_cpu_float(q_in, "q", op);
  TORCH_CHECK(lse.scalar_type() == lse_dtype(q_in), op, ": lse must be ", lse_dtype(q_in), " for q of dtype ",
              q_in.scalar_type(), ", got ", lse.scalar_type());
  // As the forward: bfloat16 and float16 tensors are widened to float32, the gradients rounded once at the end.
  const at::Tensor q = rows_contiguous(widened(q_in)), k = rows_contiguous(widened(k_in)),
                   v = rows_contiguous(widened(v_in)), out = rows_contiguous(widened(out_in)),
                   grad_out = rows_contiguous(widened(grad_out_in));
  // In (B, N, H, D) memory, as the forward's output: the projection's backward splits the heads by a view.
  at::Tensor grad_q = empty_heads_last(q), grad_k = empty_heads_last(k), grad_v = empty_heads_last(v);
  if (q.numel() == 0 || k.numel() == 0) {
    grad_q.zero_(), grad_k.zero_(), grad_v.zero_();
  } else {
    AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "attention_backward", [&] {
      backward<scalar_t>({q, k, v, out, lse.contiguous(), grad_out, grad_q, grad_k, grad_v,
                          key_bias(key_padding_mask, q.scalar_type()), causal,
                          static_cast<scalar_t>(attention_scale(q, scale))});
    });
  }
  const at::ScalarType dtype = q_in.scalar_type();
  return {grad_q.to(dtype), grad_k.to(dtype), grad_v.to(dtype)};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) { m.impl("attention_backward", &attention_backward); }

}  // namespace mt::cpu::attention

// Flash attention forward on the CPU (Dao et al., "FlashAttention-2", 2023, Algorithm 1).
//
//   S = scale * Q K^T (+ masks),   lse_i = log sum_j exp(S_ij),   O = softmax(S) V
//
// at::parallel_for runs over (batch, head, query block). For one query block Q_b (q_len x D) the key /
// value blocks K_c, V_c stream by; each step is
//
//   S_bc  = Q_b K_c^T                        (into a per-thread tile, q_len x kv_len)
//   m_new = max(m, rowmax(scale S_bc))       (vectorised; masked keys are -inf)
//   P_bc  = exp(scale S_bc - m_new),  l = l exp(m - m_new) + rowsum(P_bc)
//   O_b   = O_b exp(m - m_new) + P_bc V_c    (the GEMM accumulates straight into the output)
//
// and at the end O_b /= l, lse = m + log l. The N x N matrix never exists: memory beyond q, k, v, the
// output and lse is one q_block x kv_block tile per thread. Under causal masking (query i sees keys
// j <= i) key blocks entirely right of the diagonal are skipped. Rows with no visible key give O = 0 and
// lse = -inf. The kernel computes in float32 (float64 for float64 inputs); bfloat16 and float16 inputs are
// widened to float32 first, and lse is float32 for them.
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

// Tile sizes: the S tile (q_block x kv_block) and a K and V block stay in the per-core L2 cache.
constexpr int64_t kQueryBlock = 128;
constexpr int64_t kKeyBlock = 512;

template <typename T>
struct ForwardArgs {
  at::Tensor q, k, v, out, lse, bias;  // bias: (B, N_k) of 0 / -inf, or undefined
  bool causal;
  T scale;
};

// A thread's key block, transposed to (dim, kv_block) for S = Q K^T. A thread's tasks are consecutive query
// blocks, mostly of one head: they transpose its keys once when the keys fit in one block.
template <typename T>
struct TransposedKeys {
  T* data;
  int64_t ld;  // kv_block
  int64_t head = -1, start = -1, len = 0;

  const T* of(const HeadView<T>& k, int64_t head_index, int64_t kv_start, int64_t kv_len, int64_t dim) {
    if (head_index != head || kv_start != start || kv_len > len) {
      transpose_block(k.row(kv_start), k.ld, kv_len, dim, data, ld);
      head = head_index, start = kv_start, len = kv_len;
    }
    return data;
  }
};

// Attention for query rows [q_start, q_start + q_len) of head (b, h); `tile` holds q_len x kv_block,
// `running_max` and `running_sum` q_len values each.
template <typename T>
void forward_block(const ForwardArgs<T>& a, int64_t b, int64_t h, int64_t q_start, int64_t q_len,
                   T* tile, TransposedKeys<T>& keys_t, T* running_max, T* running_sum) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  const int64_t n_k = a.k.size(2), dim = a.q.size(3);
  const HeadView<T> q = head_view<T>(a.q, b, h), k = head_view<T>(a.k, b, h),
                    v = head_view<T>(a.v, b, h), out = head_view<T>(a.out, b, h);
  const T* bias = a.bias.defined() ? data<T>(a.bias) + b * n_k : nullptr;
  const int64_t kv_end = a.causal ? std::min(n_k, q_start + q_len) : n_k;  // later blocks: all masked

  for (int64_t kv_start = 0; kv_start < kv_end; kv_start += kKeyBlock) {
    const int64_t kv_len = std::min(kKeyBlock, kv_end - kv_start);  // causal: clipped at the diagonal
    const bool first = kv_start == 0;
    const T* k_t = keys_t.of(k, b * a.q.size(1) + h, kv_start, kv_len, dim);  // (dim, kv_len), row stride kv_block
    tile_gemm<T>(q_len, kv_len, dim, row_major(q.row(q_start), q.ld), k_t, keys_t.ld, tile, kv_len, false);
    for (int64_t r = 0; r < q_len; ++r) {
      T* scores = tile + r * kv_len;  // (kv_len,)
      const int64_t visible = visible_keys(a.causal, q_start + r, kv_start, kv_len);
      // Without a padding mask and with scale > 0, max(scale s) = scale max(s): the scaling is folded
      // into the exp pass; otherwise the row is scaled and masked in place first (then exp_scale = 1).
      const bool fold_scale = bias == nullptr && a.scale > T(0);
      const T block_max = fold_scale ? row_max(scores, visible) * a.scale
                                     : scale_bias_max(scores, visible, a.scale, bias ? bias + kv_start : nullptr);
      const T exp_scale = fold_scale ? a.scale : T(1);
      const T old_max = first ? kNegInf : running_max[r];
      const T new_max = std::max(old_max, block_max);
      T block_sum = 0;
      if (new_max == kNegInf) {
        std::fill(scores, scores + kv_len, T(0));  // nothing visible yet: P = 0
      } else {
        block_sum = exp_sum(scores, visible, exp_scale, new_max);
        std::fill(scores + visible, scores + kv_len, T(0));
      }
      const T rescale = old_max == kNegInf ? T(0) : std::exp(old_max - new_max);
      running_sum[r] = first ? block_sum : running_sum[r] * rescale + block_sum;
      running_max[r] = new_max;
      if (!first) scale_row(out.row(q_start + r), dim, rescale);
    }
    tile_gemm<T>(q_len, dim, kv_len, row_major<T>(tile, kv_len), v.row(kv_start), v.ld, out.row(q_start), out.ld,
                 !first);
  }

  T* lse = data<T>(a.lse) + (b * a.q.size(1) + h) * a.q.size(2) + q_start;
  for (int64_t r = 0; r < q_len; ++r) {
    if (running_sum[r] == T(0)) {  // every key masked
      std::fill(out.row(q_start + r), out.row(q_start + r) + dim, T(0));
      lse[r] = kNegInf;
    } else {
      scale_row(out.row(q_start + r), dim, T(1) / running_sum[r]);
      lse[r] = running_max[r] + std::log(running_sum[r]);
    }
  }
}

template <typename T>
void forward(const ForwardArgs<T>& a) {
  const int64_t batch = a.q.size(0), heads = a.q.size(1), n_q = a.q.size(2);
  const int64_t q_block = std::min(kQueryBlock, n_q), kv_block = std::min(kKeyBlock, a.k.size(2));
  const int64_t q_blocks = (n_q + q_block - 1) / q_block;
  const int64_t dim = a.q.size(3);
  const int64_t per_thread = q_block * kv_block + dim * kv_block + 2 * q_block;  // tile, keys_t, max, sum
  at::Tensor scratch = at::empty({at::get_num_threads(), per_thread}, a.q.options());
  at::parallel_for(0, batch * heads * q_blocks, 1, [&](int64_t begin, int64_t end) {
    T* tile = scratch.data_ptr<T>() + at::get_thread_num() * per_thread;
    TransposedKeys<T> keys_t{tile + q_block * kv_block, kv_block};
    T* running_max = keys_t.data + dim * kv_block;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / (heads * q_blocks), h = task / q_blocks % heads;
      const int64_t q_start = task % q_blocks * q_block;
      const int64_t q_len = std::min(q_block, n_q - q_start);
      forward_block(a, b, h, q_start, q_len, tile, keys_t, running_max, running_max + q_block);
    }
  });
}

std::tuple<at::Tensor, at::Tensor> attention_forward(const at::Tensor& q_in, const at::Tensor& k_in,
                                                     const at::Tensor& v_in, bool causal,
                                                     const std::optional<at::Tensor>& key_padding_mask,
                                                     std::optional<double> scale) {
  const char* op = "minitransformer::attention_forward";
  check_attention_inputs(q_in, k_in, v_in, key_padding_mask, op);
  check_cpu_float(q_in, "q", op);
  // bfloat16 and float16 inputs run the float32 kernel on float32 copies (O(N D) conversions against O(N^2 D)
  // GEMM work); the output is rounded once to q's dtype.
  const at::Tensor q = rows_contiguous(widened(q_in)), k = rows_contiguous(widened(k_in)),
                   v = rows_contiguous(widened(v_in));
  at::Tensor out = empty_heads_last(q);  // (B, H, N_q, D) in (B, N_q, H, D) memory
  at::Tensor lse = at::empty({q.size(0), q.size(1), q.size(2)}, q.options().dtype(lse_dtype(q_in)));
  if (q.numel() == 0) return {out.to(q_in.scalar_type()), lse};
  if (k.size(2) == 0)
    return {out.zero_().to(q_in.scalar_type()), lse.fill_(-std::numeric_limits<double>::infinity())};
  AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "attention_forward", [&] {
    forward<scalar_t>({q, k, v, out, lse, key_bias(key_padding_mask, q.scalar_type()), causal,
                       static_cast<scalar_t>(attention_scale(q, scale))});
  });
  return {out.to(q_in.scalar_type()), lse};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) { m.impl("attention_forward", &attention_forward); }

}  // namespace mt::cpu::attention

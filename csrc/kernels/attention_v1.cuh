// attention v1 — naive: materialise S, a separate softmax, then P V (three kernels, the baseline).
//
//   scores:  S_ij = scale * q_i . k_j  (or -inf where masked), one thread per (i, j), into a
//            (B, H, N_q, N_k) float workspace
//   softmax: one thread per row: max, sum of exp, P_ij = exp(S_ij - lse_i) in place, lse_i
//   output:  out_id = sum_j P_ij v_jd, one thread per (i, d)
//
// Global-memory traffic is dominated by S: written once, read three times and rewritten by the softmax,
// read again by the output kernel — O(N^2) per head against O(N D) for q, k, v and out. Every later
// version exists to remove that.
#pragma once
#include "kernels/attention_common.cuh"

namespace mt {

constexpr int kAttentionV1Tile = 16;

template <typename T>
__global__ void attention_v1_scores_kernel(AttentionArgs a) {
  const int key = blockIdx.x * blockDim.x + threadIdx.x;
  const int query = blockIdx.y * blockDim.y + threadIdx.y;
  const int bh = blockIdx.z;
  if (key >= a.n_k || query >= a.n_q) return;
  const T* q = static_cast<const T*>(a.q) + (static_cast<size_t>(bh) * a.n_q + query) * a.dim;
  const T* k = static_cast<const T*>(a.k) + (static_cast<size_t>(bh) * a.n_k + key) * a.dim;
  float score = -INFINITY;
  if (attention::key_visible(a, attention::mask_row(a, bh), query, key)) {
    float dot = 0.f;
    for (int d = 0; d < a.dim; ++d) dot += to_float(q[d]) * to_float(k[d]);
    score = a.scale * dot;
  }
  a.workspace[(static_cast<size_t>(bh) * a.n_q + query) * a.n_k + key] = score;
}

inline LaunchConfig attention_v1_scores_config(const AttentionArgs& a) {
  return {dim3(ceil_div(a.n_k, kAttentionV1Tile), ceil_div(a.n_q, kAttentionV1Tile), a.batch * a.heads),
          dim3(kAttentionV1Tile, kAttentionV1Tile), 0};
}

constexpr int kAttentionV1SoftmaxThreads = 128;

__global__ void attention_v1_softmax_kernel(AttentionArgs a) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;  // over B * H * N_q
  if (row >= a.batch * a.heads * a.n_q) return;
  float* s = a.workspace + static_cast<size_t>(row) * a.n_k;
  float row_max = -INFINITY;
  for (int j = 0; j < a.n_k; ++j) row_max = fmaxf(row_max, s[j]);
  float sum = 0.f;
  if (row_max != -INFINITY)
    for (int j = 0; j < a.n_k; ++j) sum += expf(s[j] - row_max);
  const float lse = sum > 0.f ? row_max + logf(sum) : -INFINITY;
  for (int j = 0; j < a.n_k; ++j) s[j] = lse == -INFINITY ? 0.f : expf(s[j] - lse);
  a.lse[row] = lse;
}

inline LaunchConfig attention_v1_softmax_config(const AttentionArgs& a) {
  return {dim3(ceil_div(a.batch * a.heads * a.n_q, kAttentionV1SoftmaxThreads)),
          dim3(kAttentionV1SoftmaxThreads), 0};
}

template <typename T>
__global__ void attention_v1_output_kernel(AttentionArgs a) {
  const int d = blockIdx.x * blockDim.x + threadIdx.x;
  const int query = blockIdx.y * blockDim.y + threadIdx.y;
  const int bh = blockIdx.z;
  if (d >= a.dim || query >= a.n_q) return;
  const float* p = a.workspace + (static_cast<size_t>(bh) * a.n_q + query) * a.n_k;
  const T* v = static_cast<const T*>(a.v) + static_cast<size_t>(bh) * a.n_k * a.dim;
  float acc = 0.f;
  for (int j = 0; j < a.n_k; ++j) acc += p[j] * to_float(v[static_cast<size_t>(j) * a.dim + d]);
  store(static_cast<T*>(a.out) + (static_cast<size_t>(bh) * a.n_q + query) * a.dim + d, acc);
}

inline LaunchConfig attention_v1_output_config(const AttentionArgs& a) {
  return {dim3(ceil_div(a.dim, kAttentionV1Tile), ceil_div(a.n_q, kAttentionV1Tile), a.batch * a.heads),
          dim3(kAttentionV1Tile, kAttentionV1Tile), 0};
}

// Floats of workspace v1 needs: the (B, H, N_q, N_k) scores, then probabilities.
inline size_t attention_v1_workspace_floats(const AttentionArgs& a) {
  return static_cast<size_t>(a.batch) * a.heads * a.n_q * a.n_k;
}

}  // namespace mt

// attention v2 — tiled in shared memory with the online softmax, FlashAttention-1 loop order
// (Dao et al. 2022, Algorithm 1): key/value blocks in the OUTER loop, query rows in the inner one.
//
// One thread block per (batch, head) with 4 warps. For each block of 32 keys the warps load K_c and V_c
// into shared memory once; then every query row r (one warp per row, lane j scoring key j) does
//
//   s_j = scale q_r . k_j,  m' = max(m, max_j s_j),  l = l e^{m - m'} + sum_j e^{s_j - m'}
//   o_r = o_r e^{m - m'} + sum_j e^{s_j - m'} v_j
//
// and, as FA-1 does, its running (m, l, o_r) go back to global memory (the workspace) between key
// blocks: the N x N matrix is gone, but O makes a round trip per key block and only B * H blocks run.
#pragma once
#include "kernels/attention_common.cuh"

namespace mt {

constexpr int kAttentionV2Keys = 32;  // one key per lane
constexpr int kAttentionV2Threads = 128;

template <typename T>
__global__ void attention_v2_kernel(AttentionArgs a) {
  using namespace attention;
  const int bh = blockIdx.x, lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize, dim = a.dim;
  float* k_tile = dynamic_shared<float>();                  // (32, dim + 1): padded, lanes read columns
  float* v_tile = k_tile + kAttentionV2Keys * (dim + 1);  // (32, dim)
  const T* q = static_cast<const T*>(a.q) + static_cast<size_t>(bh) * a.n_q * dim;
  const T* k = static_cast<const T*>(a.k) + static_cast<size_t>(bh) * a.n_k * dim;
  const T* v = static_cast<const T*>(a.v) + static_cast<size_t>(bh) * a.n_k * dim;
  float* row_max = a.workspace + static_cast<size_t>(bh) * a.n_q;                        // m
  float* row_sum = a.lse + static_cast<size_t>(bh) * a.n_q;                              // l, then lse
  float* acc = a.workspace + static_cast<size_t>(a.batch) * a.heads * a.n_q + static_cast<size_t>(bh) * a.n_q * dim;
  const bool* mask = mask_row(a, bh);

  for (int kv_start = 0; kv_start < a.n_k; kv_start += kAttentionV2Keys) {
    __syncthreads();  // every warp is done with the previous tiles (and its global row state)
    for (int idx = threadIdx.x; idx < kAttentionV2Keys * dim; idx += blockDim.x) {
      const int j = idx / dim, d = idx % dim, key = kv_start + j;
      k_tile[j * (dim + 1) + d] = key < a.n_k ? to_float(k[static_cast<size_t>(key) * dim + d]) : 0.f;
      v_tile[j * dim + d] = key < a.n_k ? to_float(v[static_cast<size_t>(key) * dim + d]) : 0.f;
    }
    __syncthreads();
    const int first_query = (a.causal && kv_start > 0) ? kv_start : 0;  // earlier rows see no key here
    for (int query = first_query + warp; query < a.n_q; query += warps) {
      RowState state;
      float o[kSlots];
      for (int c = 0; c < kSlots; ++c) {
        const int d = lane + c * kWarpSize;
        o[c] = (kv_start > 0 && d < dim) ? acc[static_cast<size_t>(query) * dim + d] : 0.f;
      }
      if (kv_start > 0) state = {row_max[query], row_sum[query]};
      const int key = kv_start + lane;
      float s = -INFINITY;
      if (key_visible(a, mask, query, key)) {
        float dot = 0.f;
        for (int d = 0; d < dim; ++d) dot += to_float(q[static_cast<size_t>(query) * dim + d]) * k_tile[lane * (dim + 1) + d];
        s = a.scale * dot;
      }
      const float rescale = state.raise_max(warp_max(s));
      const float p = state.max == -INFINITY ? 0.f : expf(s - state.max);
      state.sum += warp_sum(p);
      for (int c = 0; c < kSlots; ++c) o[c] *= rescale;
      for (int j = 0; j < kAttentionV2Keys; ++j) {
        const float p_j = __shfl_sync(kFullMask, p, j);
        for (int c = 0; c < kSlots; ++c)
          if (lane + c * kWarpSize < dim) o[c] += p_j * v_tile[j * dim + lane + c * kWarpSize];
      }
      for (int c = 0; c < kSlots; ++c)
        if (lane + c * kWarpSize < dim) acc[static_cast<size_t>(query) * dim + lane + c * kWarpSize] = o[c];
      if (lane == 0) {
        row_max[query] = state.max;
        row_sum[query] = state.sum;
      }
      __syncwarp();
    }
  }
  __syncthreads();
  for (int query = warp; query < a.n_q; query += warps) {  // O = acc / l, lse = m + log l
    const RowState state{row_max[query], row_sum[query]};
    for (int d = lane; d < dim; d += kWarpSize)
      store(static_cast<T*>(a.out) + (static_cast<size_t>(bh) * a.n_q + query) * dim + d,
            acc[static_cast<size_t>(query) * dim + d] * state.inverse_sum());
    __syncwarp();
    if (lane == 0) row_sum[query] = state.lse();
  }
}

inline LaunchConfig attention_v2_config(const AttentionArgs& a) {
  const size_t floats = kAttentionV2Keys * (2 * a.dim + 1);
  return {dim3(a.batch * a.heads), dim3(kAttentionV2Threads), floats * sizeof(float)};
}

// Floats of workspace v2 needs: the running maxima and the float output accumulators.
inline size_t attention_v2_workspace_floats(const AttentionArgs& a) {
  return static_cast<size_t>(a.batch) * a.heads * a.n_q * (a.dim + 1);
}

}  // namespace mt

// attention v3 — FlashAttention-2 order (Dao 2023, Algorithm 1): query blocks OUTER, warps split
// over query rows, no atomics, the running state in registers.
//
// One thread block per (query block of 32 rows, batch x head), 4 warps of 8 rows each. The block keeps
// its Q tile in shared memory and streams 32-key K/V tiles through shared memory; every warp updates
// its rows' online softmax (m, l) and output accumulators o (lane d holds o_d, o_{d+32}, …) in
// registers, so O is written once, at the end, and lse with it. Causal masking stops the key loop at
// the block's last query (tiles right of the diagonal are never loaded).
// Changes over v2: grid of B * H * ceil(N_q / 32) blocks instead of B * H; no O round trips; each K/V
// tile is reused by 32 rows from shared memory and Q is read from shared memory, not global.
#pragma once
#include "kernels/attention_common.cuh"

namespace mt {

constexpr int kAttentionV3Rows = 32;  // query rows per block
constexpr int kAttentionV3Keys = 32;  // keys per tile: one per lane
constexpr int kAttentionV3Warps = 4;
constexpr int kAttentionV3RowsPerWarp = kAttentionV3Rows / kAttentionV3Warps;

template <typename T>
__global__ void attention_v3_kernel(AttentionArgs a) {
  using namespace attention;
  const int bh = blockIdx.y, q_start = blockIdx.x * kAttentionV3Rows, dim = a.dim;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  float* q_tile = dynamic_shared<float>();                  // (32, dim)
  float* k_tile = q_tile + kAttentionV3Rows * dim;          // (32, dim + 1): padded, lanes read columns
  float* v_tile = k_tile + kAttentionV3Keys * (dim + 1);  // (32, dim)
  const T* q = static_cast<const T*>(a.q) + static_cast<size_t>(bh) * a.n_q * dim;
  const T* k = static_cast<const T*>(a.k) + static_cast<size_t>(bh) * a.n_k * dim;
  const T* v = static_cast<const T*>(a.v) + static_cast<size_t>(bh) * a.n_k * dim;
  const bool* mask = mask_row(a, bh);

  for (int idx = threadIdx.x; idx < kAttentionV3Rows * dim; idx += blockDim.x) {
    const int query = q_start + idx / dim;
    q_tile[idx] = query < a.n_q ? to_float(q[static_cast<size_t>(query) * dim + idx % dim]) : 0.f;
  }
  RowState state[kAttentionV3RowsPerWarp];
  float o[kAttentionV3RowsPerWarp][kSlots] = {};
  const int kv_end = a.causal ? min(a.n_k, q_start + kAttentionV3Rows) : a.n_k;

  for (int kv_start = 0; kv_start < kv_end; kv_start += kAttentionV3Keys) {
    __syncthreads();  // Q is loaded / the previous K, V tiles are consumed
    for (int idx = threadIdx.x; idx < kAttentionV3Keys * dim; idx += blockDim.x) {
      const int j = idx / dim, d = idx % dim, key = kv_start + j;
      k_tile[j * (dim + 1) + d] = key < a.n_k ? to_float(k[static_cast<size_t>(key) * dim + d]) : 0.f;
      v_tile[j * dim + d] = key < a.n_k ? to_float(v[static_cast<size_t>(key) * dim + d]) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int r = 0; r < kAttentionV3RowsPerWarp; ++r) {
      const int row = warp * kAttentionV3RowsPerWarp + r, query = q_start + row;
      if (query >= a.n_q) break;  // the same for the whole warp
      float s = -INFINITY;
      if (key_visible(a, mask, query, kv_start + lane)) {
        float dot = 0.f;
        for (int d = 0; d < dim; ++d) dot += q_tile[row * dim + d] * k_tile[lane * (dim + 1) + d];
        s = a.scale * dot;
      }
      const float rescale = state[r].raise_max(warp_max(s));
      const float p = state[r].max == -INFINITY ? 0.f : expf(s - state[r].max);
      state[r].sum += warp_sum(p);
#pragma unroll
      for (int c = 0; c < kSlots; ++c) o[r][c] *= rescale;
      for (int j = 0; j < kAttentionV3Keys; ++j) {
        const float p_j = __shfl_sync(kFullMask, p, j);
#pragma unroll
        for (int c = 0; c < kSlots; ++c)
          if (lane + c * kWarpSize < dim) o[r][c] += p_j * v_tile[j * dim + lane + c * kWarpSize];
      }
    }
  }

#pragma unroll
  for (int r = 0; r < kAttentionV3RowsPerWarp; ++r) {
    const int query = q_start + warp * kAttentionV3RowsPerWarp + r;
    if (query >= a.n_q) break;
    const size_t row = static_cast<size_t>(bh) * a.n_q + query;
#pragma unroll
    for (int c = 0; c < kSlots; ++c)
      if (lane + c * kWarpSize < dim)
        store(static_cast<T*>(a.out) + row * dim + lane + c * kWarpSize, o[r][c] * state[r].inverse_sum());
    if (lane == 0) a.lse[row] = state[r].lse();
  }
}

inline LaunchConfig attention_v3_config(const AttentionArgs& a) {
  const size_t floats = kAttentionV3Rows * a.dim + kAttentionV3Keys * (2 * a.dim + 1);
  return {dim3(ceil_div(a.n_q, kAttentionV3Rows), a.batch * a.heads), dim3(kAttentionV3Warps * kWarpSize),
          floats * sizeof(float)};
}

}  // namespace mt

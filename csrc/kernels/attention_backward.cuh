// attention backward — FlashAttention-2's backward (Dao 2023, Algorithm 2) as three kernels, for the
// forward of v3. P is recomputed from the saved lse; nothing of size N x N is stored.
//
//   delta: Delta_i = dO_i . O_i                               (one warp per query row)
//   dkdv:  one block per 32-key block; it streams every query tile through shared memory and keeps
//          dK_j, dV_j of its keys in registers (a warp owns 8 keys, lane d holds entries d, d+32, …):
//            p = exp(scale q_i.k_j - lse_i),  dV_j += p dO_i,
//            ds = p (dO_i.v_j - Delta_i) scale,  dK_j += ds q_i
//   dq:    one block per 32-query block, streaming key tiles; a warp owns 8 query rows:
//            dQ_i += ds k_j
//
// FA-2 accumulates dQ with atomics inside the dK/dV loop; splitting it into its own kernel recomputes
// P once more but makes every gradient a plain, deterministic store.
#pragma once
#include "kernels/attention_common.cuh"

namespace mt {

constexpr int kAttentionBwdRows = 32;  // query rows per tile
constexpr int kAttentionBwdKeys = 32;  // keys per tile
constexpr int kAttentionBwdWarps = 4;
constexpr int kAttentionBwdPerWarp = 8;  // keys (dkdv) or query rows (dq) per warp

namespace attention {

// x . y over the head dimension for rows held in shared memory, summed across the warp.
__device__ __forceinline__ float warp_dot(const float* x, const float* y, int dim) {
  float partial = 0.f;
  for (int d = threadIdx.x % kWarpSize; d < dim; d += kWarpSize) partial += x[d] * y[d];
  return warp_sum(partial);
}

// Load rows [start, start + rows) of a (N, dim) matrix into a float tile; rows past n are zero.
template <typename T>
__device__ void load_tile(float* tile, const T* src, int start, int rows, int n, int dim) {
  for (int idx = threadIdx.x; idx < rows * dim; idx += blockDim.x) {
    const int row = start + idx / dim;
    tile[idx] = row < n ? to_float(src[static_cast<size_t>(row) * dim + idx % dim]) : 0.f;
  }
}

}  // namespace attention

template <typename T>
__global__ void attention_backward_delta_kernel(AttentionArgs a) {
  const int row = blockIdx.x * kAttentionBwdWarps + threadIdx.x / kWarpSize;  // over B * H * N_q
  if (row >= a.batch * a.heads * a.n_q) return;
  const T* d_out = static_cast<const T*>(a.grad_out) + static_cast<size_t>(row) * a.dim;
  const T* out = static_cast<const T*>(a.out) + static_cast<size_t>(row) * a.dim;
  float partial = 0.f;
  for (int d = threadIdx.x % kWarpSize; d < a.dim; d += kWarpSize)
    partial += to_float(d_out[d]) * to_float(out[d]);
  const float delta = attention::warp_sum(partial);
  if (threadIdx.x % kWarpSize == 0) a.delta[row] = delta;
}

inline LaunchConfig attention_backward_delta_config(const AttentionArgs& a) {
  return {dim3(ceil_div(a.batch * a.heads * a.n_q, kAttentionBwdWarps)), dim3(kAttentionBwdWarps * kWarpSize), 0};
}

template <typename T>
__global__ void attention_backward_dkdv_kernel(AttentionArgs a) {
  using namespace attention;
  const int bh = blockIdx.y, kv_start = blockIdx.x * kAttentionBwdKeys, dim = a.dim;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  float* k_tile = dynamic_shared<float>();                 // (32, dim)
  float* v_tile = k_tile + kAttentionBwdKeys * dim;        // (32, dim)
  float* q_tile = v_tile + kAttentionBwdKeys * dim;        // (32, dim)
  float* d_out_tile = q_tile + kAttentionBwdRows * dim;    // (32, dim)
  const size_t q_offset = static_cast<size_t>(bh) * a.n_q, k_offset = static_cast<size_t>(bh) * a.n_k;
  const bool* mask = mask_row(a, bh);
  load_tile(k_tile, static_cast<const T*>(a.k) + k_offset * dim, kv_start, kAttentionBwdKeys, a.n_k, dim);
  load_tile(v_tile, static_cast<const T*>(a.v) + k_offset * dim, kv_start, kAttentionBwdKeys, a.n_k, dim);
  float dk[kAttentionBwdPerWarp][kSlots] = {}, dv[kAttentionBwdPerWarp][kSlots] = {};
  const int q_begin = a.causal ? kv_start / kAttentionBwdRows * kAttentionBwdRows : 0;  // earlier rows see none

  for (int q_start = q_begin; q_start < a.n_q; q_start += kAttentionBwdRows) {
    __syncthreads();  // K, V loaded / the previous Q, dO tiles consumed
    load_tile(q_tile, static_cast<const T*>(a.q) + q_offset * dim, q_start, kAttentionBwdRows, a.n_q, dim);
    load_tile(d_out_tile, static_cast<const T*>(a.grad_out) + q_offset * dim, q_start, kAttentionBwdRows, a.n_q, dim);
    __syncthreads();
    for (int i = 0; i < kAttentionBwdRows && q_start + i < a.n_q; ++i) {
      const int query = q_start + i;
      const float lse = a.lse[q_offset + query], delta = a.delta[q_offset + query];
      if (lse == -INFINITY) continue;  // no visible key: P = 0
#pragma unroll
      for (int r = 0; r < kAttentionBwdPerWarp; ++r) {
        const int j = warp * kAttentionBwdPerWarp + r;
        if (!key_visible(a, mask, query, kv_start + j)) continue;  // the same for the whole warp
        const float p = expf(a.scale * warp_dot(q_tile + i * dim, k_tile + j * dim, dim) - lse);
        const float ds = p * (warp_dot(d_out_tile + i * dim, v_tile + j * dim, dim) - delta) * a.scale;
#pragma unroll
        for (int c = 0; c < kSlots; ++c) {
          const int d = lane + c * kWarpSize;
          if (d < dim) {
            dv[r][c] += p * d_out_tile[i * dim + d];
            dk[r][c] += ds * q_tile[i * dim + d];
          }
        }
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kAttentionBwdPerWarp; ++r) {
    const int key = kv_start + warp * kAttentionBwdPerWarp + r;
    if (key >= a.n_k) break;
#pragma unroll
    for (int c = 0; c < kSlots; ++c) {
      const int d = lane + c * kWarpSize;
      if (d < dim) {
        store(static_cast<T*>(a.grad_k) + (k_offset + key) * dim + d, dk[r][c]);
        store(static_cast<T*>(a.grad_v) + (k_offset + key) * dim + d, dv[r][c]);
      }
    }
  }
}

inline LaunchConfig attention_backward_dkdv_config(const AttentionArgs& a) {
  return {dim3(ceil_div(a.n_k, kAttentionBwdKeys), a.batch * a.heads), dim3(kAttentionBwdWarps * kWarpSize),
          (2 * kAttentionBwdKeys + 2 * kAttentionBwdRows) * a.dim * sizeof(float)};
}

template <typename T>
__global__ void attention_backward_dq_kernel(AttentionArgs a) {
  using namespace attention;
  const int bh = blockIdx.y, q_start = blockIdx.x * kAttentionBwdRows, dim = a.dim;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  float* q_tile = dynamic_shared<float>();               // (32, dim)
  float* d_out_tile = q_tile + kAttentionBwdRows * dim;  // (32, dim)
  float* k_tile = d_out_tile + kAttentionBwdRows * dim;  // (32, dim)
  float* v_tile = k_tile + kAttentionBwdKeys * dim;      // (32, dim)
  const size_t q_offset = static_cast<size_t>(bh) * a.n_q, k_offset = static_cast<size_t>(bh) * a.n_k;
  const bool* mask = mask_row(a, bh);
  load_tile(q_tile, static_cast<const T*>(a.q) + q_offset * dim, q_start, kAttentionBwdRows, a.n_q, dim);
  load_tile(d_out_tile, static_cast<const T*>(a.grad_out) + q_offset * dim, q_start, kAttentionBwdRows, a.n_q, dim);
  float dq[kAttentionBwdPerWarp][kSlots] = {};
  const int kv_end = a.causal ? min(a.n_k, q_start + kAttentionBwdRows) : a.n_k;

  for (int kv_start = 0; kv_start < kv_end; kv_start += kAttentionBwdKeys) {
    __syncthreads();  // Q, dO loaded / the previous K, V tiles consumed
    load_tile(k_tile, static_cast<const T*>(a.k) + k_offset * dim, kv_start, kAttentionBwdKeys, a.n_k, dim);
    load_tile(v_tile, static_cast<const T*>(a.v) + k_offset * dim, kv_start, kAttentionBwdKeys, a.n_k, dim);
    __syncthreads();
#pragma unroll
    for (int r = 0; r < kAttentionBwdPerWarp; ++r) {
      const int i = warp * kAttentionBwdPerWarp + r, query = q_start + i;
      if (query >= a.n_q) break;
      const float lse = a.lse[q_offset + query], delta = a.delta[q_offset + query];
      if (lse == -INFINITY) continue;
      for (int j = 0; j < kAttentionBwdKeys; ++j) {
        if (!key_visible(a, mask, query, kv_start + j)) continue;
        const float p = expf(a.scale * warp_dot(q_tile + i * dim, k_tile + j * dim, dim) - lse);
        const float ds = p * (warp_dot(d_out_tile + i * dim, v_tile + j * dim, dim) - delta) * a.scale;
#pragma unroll
        for (int c = 0; c < kSlots; ++c)
          if (lane + c * kWarpSize < dim) dq[r][c] += ds * k_tile[j * dim + lane + c * kWarpSize];
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kAttentionBwdPerWarp; ++r) {
    const int query = q_start + warp * kAttentionBwdPerWarp + r;
    if (query >= a.n_q) break;
#pragma unroll
    for (int c = 0; c < kSlots; ++c)
      if (lane + c * kWarpSize < dim)
        store(static_cast<T*>(a.grad_q) + (q_offset + query) * dim + lane + c * kWarpSize, dq[r][c]);
  }
}

inline LaunchConfig attention_backward_dq_config(const AttentionArgs& a) {
  return {dim3(ceil_div(a.n_q, kAttentionBwdRows), a.batch * a.heads), dim3(kAttentionBwdWarps * kWarpSize),
          (2 * kAttentionBwdRows + 2 * kAttentionBwdKeys) * a.dim * sizeof(float)};
}

}  // namespace mt

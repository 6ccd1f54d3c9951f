// attention v4 — v3's FlashAttention-2 order with both GEMMs on tensor cores (Dao 2023; the CUDA C++
// programming guide's warp matrix functions): S = Q Kᵀ and O += P V by WMMA, 16x16x16 tiles with
// float16 (bfloat16 for bfloat16 storage) operands and float32 accumulation.
//
// One thread block per (query block of 64 rows, batch x head), 4 warps of 16 rows each: a warp's rows are
// the M = 16 of its WMMA tiles. The block converts its Q tile, then each 32-key K/V tile, to the operand
// type H in shared memory, zero-padded to D16 (D rounded up to 16: the K of a WMMA step). Per K/V tile,
// each warp with rows to compute:
//   1. S = Q_w K_jᵀ (16 x 32): two accumulator tiles of D16/16 mma_sync each, stored to its scratch;
//   2. the online softmax of v3 on S, but two lanes per row (lane 2r + h scores keys 16h … 16h + 15 of
//      row r), so each reduction is one shuffle: m, the factor exp(m_old − m_new), and P = exp(s − m)
//      rounded to H in its P tile (16 x 32); l sums the rounded P, the weights P·V actually uses;
//   3. PV = P V_j (16 x D16): D16/16 accumulator tiles of two mma_sync each, stored to its scratch;
//   4. o = o · exp(m_old − m_new) + PV in registers: lane 2r + h holds o[r][2c + h].
// What changes against v3: the products run on tensor cores; and because which lane holds which element
// of an accumulator fragment is unspecified, the per-row statistics cannot be taken from the fragments:
// S and PV pass through shared memory, where the row owners read them.
//
// Rounding: q, k, v are rounded to H as they are loaded (float32 storage: float16, to nearest even; a
// value beyond ±65504 becomes inf), and P to H before P·V; everything else is float32. The relative
// error is then a few units of H's round-off (2^-11 for float16), not float32's. The backward of the
// ladder (attention_backward.cuh) serves v4 as it does every rung: it needs only out and lse.
#pragma once
#include "kernels/attention_common.cuh"

#ifndef MT_EMULATED
#include <mma.h>
#endif

namespace mt {

constexpr int kAttentionV4Rows = 64;  // query rows per block
constexpr int kAttentionV4Keys = 32;  // keys per K/V tile
constexpr int kAttentionV4Warps = 4;
constexpr int kWmmaTile = 16;                                   // WMMA's M = N = K
constexpr int kAttentionV4PStride = kAttentionV4Keys + 8;       // row stride of a warp's P tile (H elements)

// The WMMA operand type for storage type T: bfloat16 stays bfloat16, float32 and float16 use float16.
template <typename T>
struct TensorCoreOperand {
  using type = __half;
};
template <>
struct TensorCoreOperand<__nv_bfloat16> {
  using type = __nv_bfloat16;
};

// The dynamic shared memory of one block, in bytes from its start. Every WMMA tile pointer is 32-byte
// aligned and every row stride a multiple of 16 bytes, as load_matrix_sync and store_matrix_sync require;
// the 8 extra H per row of the Q, K and V tiles shift successive rows across the shared-memory banks.
struct AttentionV4Shared {
  int dim16;       // D rounded up to 16
  int ld;          // row stride of the Q, K and V tiles, in H
  int ld_scratch;  // row stride of a warp's float scratch: (16, 32) S, then (16, D16) PV
  size_t k, v, p, scratch, bytes;
};

__host__ __device__ inline AttentionV4Shared attention_v4_shared(int dim) {
  AttentionV4Shared s;
  s.dim16 = (dim + kWmmaTile - 1) / kWmmaTile * kWmmaTile;
  s.ld = s.dim16 + 8;
  s.ld_scratch = (s.dim16 > kAttentionV4Keys ? s.dim16 : kAttentionV4Keys) + 4;
  const size_t h = 2;  // bytes of __half and __nv_bfloat16
  s.k = kAttentionV4Rows * s.ld * h;
  s.v = s.k + kAttentionV4Keys * s.ld * h;
  s.p = s.v + kAttentionV4Keys * s.ld * h;
  s.scratch = s.p + kAttentionV4Warps * kWmmaTile * kAttentionV4PStride * h;
  s.bytes = s.scratch + kAttentionV4Warps * kWmmaTile * s.ld_scratch * sizeof(float);
  return s;
}

template <typename T>
__global__ void attention_v4_kernel(AttentionArgs a) {
  using namespace attention;
  using namespace nvcuda;
  using H = typename TensorCoreOperand<T>::type;
  using AccumulatorTile = wmma::fragment<wmma::accumulator, kWmmaTile, kWmmaTile, kWmmaTile, float>;
  const AttentionV4Shared layout = attention_v4_shared(a.dim);
  const int bh = blockIdx.y, q_start = blockIdx.x * kAttentionV4Rows, dim = a.dim, dim16 = layout.dim16;
  const int ld = layout.ld, ld_scratch = layout.ld_scratch;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int row = lane / 2, side = lane % 2;  // this lane's row of the warp's 16, and its half of it
  const int query = q_start + warp * kWmmaTile + row;
  unsigned char* shared = dynamic_shared<unsigned char>();
  H* q_tile = reinterpret_cast<H*>(shared);              // (64, ld)
  H* k_tile = reinterpret_cast<H*>(shared + layout.k);   // (32, ld)
  H* v_tile = reinterpret_cast<H*>(shared + layout.v);   // (32, ld)
  H* p_tile = reinterpret_cast<H*>(shared + layout.p) + warp * kWmmaTile * kAttentionV4PStride;  // (16, 40)
  float* scratch = reinterpret_cast<float*>(shared + layout.scratch) + warp * kWmmaTile * ld_scratch;
  const T* q = static_cast<const T*>(a.q) + static_cast<size_t>(bh) * a.n_q * dim;
  const T* k = static_cast<const T*>(a.k) + static_cast<size_t>(bh) * a.n_k * dim;
  const T* v = static_cast<const T*>(a.v) + static_cast<size_t>(bh) * a.n_k * dim;
  const bool* mask = mask_row(a, bh);

  for (int idx = threadIdx.x; idx < kAttentionV4Rows * dim16; idx += blockDim.x) {
    const int r = idx / dim16, d = idx % dim16, qi = q_start + r;
    store(q_tile + r * ld + d, qi < a.n_q && d < dim ? to_float(q[static_cast<size_t>(qi) * dim + d]) : 0.f);
  }
  RowState state;
  float o[kMaxHeadDim / 2] = {};  // o[c] = O[row][2c + side]
  const int kv_end = a.causal ? min(a.n_k, q_start + kAttentionV4Rows) : a.n_k;
  const bool warp_has_rows = q_start + warp * kWmmaTile < a.n_q;  // the same for the whole warp

  for (int kv_start = 0; kv_start < kv_end; kv_start += kAttentionV4Keys) {
    __syncthreads();  // Q is loaded / the previous K, V tiles are consumed
    for (int idx = threadIdx.x; idx < kAttentionV4Keys * dim16; idx += blockDim.x) {
      const int j = idx / dim16, d = idx % dim16, key = kv_start + j;
      const bool inside = key < a.n_k && d < dim;
      store(k_tile + j * ld + d, inside ? to_float(k[static_cast<size_t>(key) * dim + d]) : 0.f);
      store(v_tile + j * ld + d, inside ? to_float(v[static_cast<size_t>(key) * dim + d]) : 0.f);
    }
    __syncthreads();
    if (!warp_has_rows) continue;

    // 1. S = Q_w K_jᵀ: K stored (key, d) row-major is Kᵀ column-major, WMMA's col_major B.
    for (int n = 0; n < kAttentionV4Keys; n += kWmmaTile) {
      AccumulatorTile s;
      wmma::fill_fragment(s, 0.f);
      for (int kk = 0; kk < dim16; kk += kWmmaTile) {
        wmma::fragment<wmma::matrix_a, kWmmaTile, kWmmaTile, kWmmaTile, H, wmma::row_major> q_frag;
        wmma::fragment<wmma::matrix_b, kWmmaTile, kWmmaTile, kWmmaTile, H, wmma::col_major> k_frag;
        wmma::load_matrix_sync(q_frag, q_tile + warp * kWmmaTile * ld + kk, ld);
        wmma::load_matrix_sync(k_frag, k_tile + n * ld + kk, ld);
        wmma::mma_sync(s, q_frag, k_frag, s);
      }
      wmma::store_matrix_sync(scratch + n, s, ld_scratch, wmma::mem_row_major);
    }
    __syncwarp();

    // 2. Online softmax of this lane's 16 scores; the other half of the row is lane ^ 1.
    constexpr int kKeysPerLane = kAttentionV4Keys / 2;
    float s_row[kKeysPerLane];
    float tile_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < kKeysPerLane; ++j) {
      const int col = side * kKeysPerLane + j;
      s_row[j] = key_visible(a, mask, query, kv_start + col) ? a.scale * scratch[row * ld_scratch + col] : -INFINITY;
      tile_max = fmaxf(tile_max, s_row[j]);
    }
    const float rescale = state.raise_max(fmaxf(tile_max, __shfl_xor_sync(kFullMask, tile_max, 1)));
    float tile_sum = 0.f;
#pragma unroll
    for (int j = 0; j < kKeysPerLane; ++j) {
      H* p = p_tile + row * kAttentionV4PStride + side * kKeysPerLane + j;
      store(p, state.max == -INFINITY ? 0.f : expf(s_row[j] - state.max));
      tile_sum += to_float(*p);
    }
    state.sum += tile_sum + __shfl_xor_sync(kFullMask, tile_sum, 1);
    __syncwarp();

    // 3. PV = P V_j, over the 32 keys in two WMMA steps.
    for (int n = 0; n < dim16; n += kWmmaTile) {
      AccumulatorTile pv;
      wmma::fill_fragment(pv, 0.f);
      for (int kk = 0; kk < kAttentionV4Keys; kk += kWmmaTile) {
        wmma::fragment<wmma::matrix_a, kWmmaTile, kWmmaTile, kWmmaTile, H, wmma::row_major> p_frag;
        wmma::fragment<wmma::matrix_b, kWmmaTile, kWmmaTile, kWmmaTile, H, wmma::row_major> v_frag;
        wmma::load_matrix_sync(p_frag, p_tile + kk, kAttentionV4PStride);
        wmma::load_matrix_sync(v_frag, v_tile + kk * ld + n, ld);
        wmma::mma_sync(pv, p_frag, v_frag, pv);
      }
      wmma::store_matrix_sync(scratch + n, pv, ld_scratch, wmma::mem_row_major);
    }
    __syncwarp();

    // 4. Rescale this lane's outputs and add the tile's.
#pragma unroll
    for (int c = 0; c < kMaxHeadDim / 2; ++c)
      if (2 * c + side < dim) o[c] = o[c] * rescale + scratch[row * ld_scratch + 2 * c + side];
  }

  if (!warp_has_rows || query >= a.n_q) return;  // no barrier follows
  const size_t out_row = static_cast<size_t>(bh) * a.n_q + query;
#pragma unroll
  for (int c = 0; c < kMaxHeadDim / 2; ++c)
    if (2 * c + side < dim)
      store(static_cast<T*>(a.out) + out_row * dim + 2 * c + side, o[c] * state.inverse_sum());
  if (side == 0) a.lse[out_row] = state.lse();
}

inline LaunchConfig attention_v4_config(const AttentionArgs& a) {
  return {dim3(ceil_div(a.n_q, kAttentionV4Rows), a.batch * a.heads), dim3(kAttentionV4Warps * kWarpSize),
          attention_v4_shared(a.dim).bytes};
}

}  // namespace mt

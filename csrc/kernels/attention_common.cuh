// Pieces shared by the attention kernels (csrc/kernels/attention_v1.cuh … attention_backward.cuh):
// the type-erased argument struct, warp reductions and the mask rule.
//
// Every kernel computes in float32 whatever the storage type T (float, __half or __nv_bfloat16):
// loads convert to float, stores convert back (to_float and store, kernels/common.cuh; v4 also rounds
// its tensor-core operands). The masks: query i sees key j when
// j < N_k, not (causal and j > i) (top-left causal alignment, as SDPA's is_causal), and not
// key_padding_mask[b, j] (True = masked). A row with no visible key gets out = 0 and lse = -inf.
#pragma once
#include "kernels/common.cuh"
#include "kernels/attention_params.cuh"

#include <math.h>

namespace mt::attention {

constexpr int kMaxHeadDim = 128;                   // D in 8..128, a multiple of 8, on the GPU
constexpr int kSlots = kMaxHeadDim / kWarpSize;  // head-dim entries per lane (lane, lane + 32, …)

__device__ __forceinline__ float warp_max(float x) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    x = fmaxf(x, __shfl_xor_sync(kFullMask, x, offset));
  return x;
}

__device__ __forceinline__ float warp_sum(float x) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) x += __shfl_xor_sync(kFullMask, x, offset);
  return x;
}

// May query `query` of batch row `mask_row` (nullptr: no padding mask) see key `key`?
__device__ __forceinline__ bool key_visible(const AttentionArgs& a, const bool* mask_row, int query, int key) {
  return key < a.n_k && !(a.causal && key > query) && !(mask_row != nullptr && mask_row[key]);
}

__device__ __forceinline__ const bool* mask_row(const AttentionArgs& a, int batch_head) {
  return a.key_padding_mask == nullptr ? nullptr : a.key_padding_mask + (batch_head / a.heads) * a.n_k;
}

// Online-softmax state of one query row (Milakov & Gimelshein 2018): running max m and sum l of
// exp(s - m). Folding in a new block maximum returns the factor exp(m_old - m_new) by which earlier
// sums and outputs shrink (0 while nothing was visible).
struct RowState {
  float max = -INFINITY;
  float sum = 0.f;
  __device__ float raise_max(float block_max) {
    const float new_max = fmaxf(max, block_max);
    const float rescale = max == -INFINITY ? 0.f : expf(max - new_max);
    max = new_max;
    sum *= rescale;
    return rescale;
  }
  __device__ float lse() const { return sum > 0.f ? max + logf(sum) : -INFINITY; }
  __device__ float inverse_sum() const { return sum > 0.f ? 1.f / sum : 0.f; }
};

}  // namespace mt::attention

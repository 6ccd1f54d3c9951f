// Building blocks of the CPU flash attention (csrc/cpu/attention_forward.cpp, attention_backward.cpp): a
// head's pointers and strides, and the vectorised row operations. The tiles' matrix products are in
// csrc/cpu/tile_gemm.h.
#pragma once
#include <ATen/ATen.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mt::cpu::attention {

using at::vec::Vectorized;

// One (batch, head) slice of a (B, H, N, D) tensor whose rows are unit-stride: row i at ptr + i * ld.
template <typename T>
struct HeadView {
  T* ptr;
  int64_t ld;
  T* row(int64_t i) const { return ptr + i * ld; }
};

template <typename T>
T* data(const at::Tensor& t) {
  return t.data_ptr<T>();
}

// An uninitialised (B, H, N, D) tensor like t, in (B, N, H, D) memory (rows unit-stride, row stride H D): a
// token's heads side by side, as MultiHeadAttention concatenates them, so that joining or splitting the heads
// is a view, not a copy (SDPA's CPU kernel does the same). The output and the q, k, v gradients use it.
inline at::Tensor empty_heads_last(const at::Tensor& t) {
  return at::empty({t.size(0), t.size(2), t.size(1), t.size(3)}, t.options()).transpose(1, 2);
}

template <typename T>
HeadView<T> head_view(const at::Tensor& t, int64_t b, int64_t h) {
  return {t.data_ptr<T>() + b * t.stride(0) + h * t.stride(1), t.stride(2)};
}

// The first `valid` keys of a tile row are visible to query i: under top-left causal masking, keys
// j <= i; otherwise the whole tile.
inline int64_t visible_keys(bool causal, int64_t query, int64_t kv_start, int64_t kv_len) {
  if (!causal) return kv_len;
  return std::clamp<int64_t>(query + 1 - kv_start, 0, kv_len);
}

// row[j] = row[j] * scale + bias[j] (bias: 0 or -inf from the key padding mask, or nullptr) for j < n;
// returns the maximum (-inf for n == 0).
template <typename T>
T scale_bias_max(T* row, int64_t n, T scale, const T* bias) {
  using Vec = Vectorized<T>;
  const Vec scale_vec(scale);
  Vec max_vec(-std::numeric_limits<T>::infinity());
  int64_t j = 0;
  for (; j + Vec::size() <= n; j += Vec::size()) {
    Vec x = Vec::loadu(row + j) * scale_vec;
    if (bias) x = x + Vec::loadu(bias + j);
    x.store(row + j);
    max_vec = at::vec::maximum(max_vec, x);
  }
  T row_max = at::vec::vec_reduce_all<T>([](const Vec& a, const Vec& b) { return at::vec::maximum(a, b); }, max_vec);
  for (; j < n; ++j) {
    row[j] = row[j] * scale + (bias ? bias[j] : T(0));
    row_max = std::max(row_max, row[j]);
  }
  return row_max;
}

// The maximum of row[0..n) (-inf for n == 0).
template <typename T>
T row_max(const T* row, int64_t n) {
  using Vec = Vectorized<T>;
  Vec max_vec(-std::numeric_limits<T>::infinity());
  int64_t j = 0;
  for (; j + Vec::size() <= n; j += Vec::size()) max_vec = at::vec::maximum(max_vec, Vec::loadu(row + j));
  T result = at::vec::vec_reduce_all<T>([](const Vec& a, const Vec& b) { return at::vec::maximum(a, b); }, max_vec);
  for (; j < n; ++j) result = std::max(result, row[j]);
  return result;
}

// row[j] = exp(row[j] * scale - shift) for j < n (one fused multiply-add before the exp); returns the sum.
template <typename T>
T exp_sum(T* row, int64_t n, T scale, T shift) {
  using Vec = Vectorized<T>;
  const Vec scale_vec(scale), minus_shift(-shift);
  Vec sum_vec(T(0));
  int64_t j = 0;
  for (; j + Vec::size() <= n; j += Vec::size()) {
    const Vec e = at::vec::fmadd(Vec::loadu(row + j), scale_vec, minus_shift).exp_u20();
    e.store(row + j);
    sum_vec += e;
  }
  T sum = at::vec::vec_reduce_all<T>([](const Vec& a, const Vec& b) { return a + b; }, sum_vec);
  for (; j < n; ++j) {
    row[j] = std::exp(row[j] * scale - shift);
    sum += row[j];
  }
  return sum;
}

// row[j] *= factor for j < n.
template <typename T>
void scale_row(T* row, int64_t n, T factor) {
  using Vec = Vectorized<T>;
  const Vec factor_vec(factor);
  int64_t j = 0;
  for (; j + Vec::size() <= n; j += Vec::size()) (Vec::loadu(row + j) * factor_vec).store(row + j);
  for (; j < n; ++j) row[j] *= factor;
}

// A (B, N_k) tensor of 0 (key visible) or -inf (key masked), or an undefined tensor without a mask.
inline at::Tensor key_bias(const std::optional<at::Tensor>& key_padding_mask, at::ScalarType dtype) {
  if (!key_padding_mask.has_value()) return {};
  return at::zeros(key_padding_mask->sizes(), at::TensorOptions().dtype(dtype))
      .masked_fill_(*key_padding_mask, -std::numeric_limits<double>::infinity());
}

}  // namespace mt::cpu::attention

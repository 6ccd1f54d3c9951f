// Building blocks of the CPU flash attention (csrc/cpu/attention_forward.cpp, attention_backward.cpp):
// row-major GEMMs on tiles, a head's pointers and strides, and the vectorised row operations.
//
// GEMMs go straight to the Fortran BLAS that libtorch exports (sgemm_/dgemm_: MKL in the x86 wheels,
// OpenBLAS elsewhere), single-threaded inside our parallel region. BLAS is column-major: a row-major
// (m x n) matrix with row stride ld is the column-major (n x m) matrix with the same ld, so C = A B is
// computed as C^T = B^T A^T. The three helpers below hide that once.
#pragma once
#include <ATen/ATen.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <cmath>
#include <limits>

extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc);
}

namespace mt::cpu::attention {

using at::vec::Vectorized;

// Column-major C (m x n) = op(A) op(B) + beta C, op = transpose when the flag is 'T'.
inline void blas_gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                      const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const int mi = m, ni = n, ki = k, la = lda, lb = ldb, lc = ldc;
  const float one = 1;
  sgemm_(&ta, &tb, &mi, &ni, &ki, &one, a, &la, b, &lb, &beta, c, &lc);
}

inline void blas_gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
                      const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  const int mi = m, ni = n, ki = k, la = lda, lb = ldb, lc = ldc;
  const double one = 1;
  dgemm_(&ta, &tb, &mi, &ni, &ki, &one, a, &la, b, &lb, &beta, c, &lc);
}

// C (m x n) = A (m x k) B (n x k)^T + beta C.
template <typename T>
void gemm_abt(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T beta,
              T* c, int64_t ldc) {
  blas_gemm('T', 'N', n, m, k, b, ldb, a, lda, beta, c, ldc);
}

// C (m x n) = A (m x k) B (k x n) + beta C.
template <typename T>
void gemm_ab(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T beta,
             T* c, int64_t ldc) {
  blas_gemm('N', 'N', n, m, k, b, ldb, a, lda, beta, c, ldc);
}

// C (m x n) = A (k x m)^T B (k x n) + beta C.
template <typename T>
void gemm_atb(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T beta,
              T* c, int64_t ldc) {
  blas_gemm('N', 'T', n, m, k, b, ldb, a, lda, beta, c, ldc);
}

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

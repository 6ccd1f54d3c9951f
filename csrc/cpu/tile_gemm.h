// The small matrix products of the CPU flash attention, on tiles that are already in the core's caches:
//
//   C (m x n) = A (m x k) B (k x n)      or      C += A B
//
// A is a row-major matrix or the transpose of one (A^T row-major: dV = P^T dO reads P by columns); B has
// unit-stride rows; C has unit-stride rows. The product is register-blocked: a micro-tile of kTileRows rows
// and kTileVectors SIMD vectors of columns is accumulated in registers over all of k, one column vector of
// B loaded and one element of A broadcast per step, and written to C once. Nothing is packed or copied,
// which is what costs a BLAS library most on products this small (k = head dim 32 or kv block 256): on
// our 2-core VMs MKL ran these shapes at 62-68 GFLOP/s against 84-91 for the model's large products.
// S = Q K^T needs K^T with unit-stride rows: the callers transpose each key block once (transpose_block).
#pragma once
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>

namespace mt::cpu::attention {

// Element (i, j) of A at ptr[i * row_stride + j * col_stride]: row-major (col_stride 1) or a transpose
// of a row-major matrix (row_stride 1).
template <typename T>
struct MatrixView {
  const T* ptr;
  int64_t row_stride, col_stride;
};

template <typename T>
MatrixView<T> row_major(const T* ptr, int64_t ld) {
  return {ptr, ld, 1};
}

template <typename T>
MatrixView<T> transposed(const T* ptr, int64_t ld) {  // A = M^T for row-major M with row stride ld
  return {ptr, 1, ld};
}

// Rows by SIMD vectors of the micro-tile: 6 x 2 keeps 12 accumulators, 2 B vectors and the broadcast A
// element in registers (16 of AVX2's, 32 of AVX-512's), enough independent FMAs to cover their latency.
constexpr int kTileRows = 6;
constexpr int kTileVectors = 2;

// C[0:kRows, 0:cols] (+)= A[0:kRows, 0:k] B[0:k, 0:cols], cols <= kTileVectors * lanes; kFull: cols is
// exactly that (whole-vector loads and stores), otherwise the last vectors are partial.
template <typename T, int kRows, bool kFull>
void micro_tile(int64_t k, MatrixView<T> a, const T* b, int64_t ldb, T* c, int64_t ldc, int64_t cols,
                bool accumulate) {
  using Vec = at::vec::Vectorized<T>;
  constexpr int64_t lanes = Vec::size();
  int64_t count[kTileVectors];  // elements in each column vector
  for (int v = 0; v < kTileVectors; ++v) count[v] = kFull ? lanes : std::clamp<int64_t>(cols - v * lanes, 0, lanes);
  auto load = [&](const T* p, int v) { return kFull ? Vec::loadu(p + v * lanes) : Vec::loadu(p + v * lanes, count[v]); };

  Vec acc[kRows][kTileVectors];
  for (int r = 0; r < kRows; ++r)
    for (int v = 0; v < kTileVectors; ++v) acc[r][v] = accumulate ? load(c + r * ldc, v) : Vec(T(0));
  for (int64_t p = 0; p < k; ++p) {
    Vec b_row[kTileVectors];
    for (int v = 0; v < kTileVectors; ++v) b_row[v] = load(b + p * ldb, v);
    const T* a_col = a.ptr + p * a.col_stride;
    for (int r = 0; r < kRows; ++r) {
      const Vec a_elem(a_col[r * a.row_stride]);
      for (int v = 0; v < kTileVectors; ++v) acc[r][v] = at::vec::fmadd(a_elem, b_row[v], acc[r][v]);
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int v = 0; v < kTileVectors; ++v) {
      if (kFull) acc[r][v].store(c + r * ldc + v * lanes);
      else if (count[v] > 0) acc[r][v].store(c + r * ldc + v * lanes, count[v]);
    }
}

// One micro-tile of `rows` <= kTileRows rows: the row count becomes a compile-time constant.
template <typename T, bool kFull>
void micro_tile_rows(int64_t rows, int64_t k, MatrixView<T> a, const T* b, int64_t ldb, T* c, int64_t ldc,
                     int64_t cols, bool accumulate) {
  static_assert(kTileRows == 6, "one case per row count below");
  switch (rows) {
    case 6: return micro_tile<T, 6, kFull>(k, a, b, ldb, c, ldc, cols, accumulate);
    case 5: return micro_tile<T, 5, kFull>(k, a, b, ldb, c, ldc, cols, accumulate);
    case 4: return micro_tile<T, 4, kFull>(k, a, b, ldb, c, ldc, cols, accumulate);
    case 3: return micro_tile<T, 3, kFull>(k, a, b, ldb, c, ldc, cols, accumulate);
    case 2: return micro_tile<T, 2, kFull>(k, a, b, ldb, c, ldc, cols, accumulate);
    default: return micro_tile<T, 1, kFull>(k, a, b, ldb, c, ldc, cols, accumulate);
  }
}

// C (m x n) = A (m x k) B (k x n), or C += A B with `accumulate`. B and C: unit-stride rows, row strides
// ldb and ldc. Column blocks outside, so one block of B (k x kTileVectors vectors) stays in L1 while the
// row blocks pass.
template <typename T>
void tile_gemm(int64_t m, int64_t n, int64_t k, MatrixView<T> a, const T* b, int64_t ldb, T* c, int64_t ldc,
               bool accumulate) {
  constexpr int64_t block_cols = kTileVectors * at::vec::Vectorized<T>::size();
  for (int64_t j = 0; j < n; j += block_cols) {
    const int64_t cols = std::min(block_cols, n - j);
    for (int64_t i = 0; i < m; i += kTileRows) {
      const MatrixView<T> a_rows{a.ptr + i * a.row_stride, a.row_stride, a.col_stride};
      const int64_t rows = std::min<int64_t>(kTileRows, m - i);
      if (cols == block_cols)
        micro_tile_rows<T, true>(rows, k, a_rows, b + j, ldb, c + i * ldc + j, ldc, cols, accumulate);
      else
        micro_tile_rows<T, false>(rows, k, a_rows, b + j, ldb, c + i * ldc + j, ldc, cols, accumulate);
    }
  }
}

// out (cols x rows, row stride ld_out) = in^T for in (rows x cols) with row stride ld_in (at::vec's
// transpose: 16 x 16 blocks in AVX-512 registers for float32, element by element otherwise).
template <typename T>
void transpose_block(const T* in, int64_t ld_in, int64_t rows, int64_t cols, T* out, int64_t ld_out) {
  at::vec::transpose_mxn<T>(in, ld_in, out, ld_out, static_cast<int>(rows), static_cast<int>(cols));
}

}  // namespace mt::cpu::attention

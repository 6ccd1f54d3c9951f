// What the row-wise CPU kernels share (softmax, layer norm, bias + GELU, cross-entropy, dropout): the
// dtypes and the compute dtype, the rows per parallel task, and the deterministic sum of a gradient over rows.
#pragma once
#include <ATen/ATen.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>

namespace mt::cpu {

// The dtypes the CPU kernels take. They compute in float32 and float64 (at::vec's widths); bfloat16 and
// float16 are widened to float32 on the way in (so every sum is a float32 sum) and rounded once to the input
// dtype on the way out.
inline void check_cpu_float(const at::Tensor& t, const char* name, const char* op) {
  const at::ScalarType dtype = t.scalar_type();
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble || dtype == at::kBFloat16 || dtype == at::kHalf, op, ": ",
              name, " must be float32, float64, bfloat16 or float16 on the CPU, got ", dtype);
}

// The dtype the kernels compute in for inputs of `dtype`: float64 for float64, float32 otherwise.
inline at::ScalarType compute_dtype(at::ScalarType dtype) { return dtype == at::kDouble ? at::kDouble : at::kFloat; }

// `t` in its compute dtype: `t` itself when it is float32 or float64, a float32 copy of a bfloat16 or float16 `t`.
inline at::Tensor widened(const at::Tensor& t) { return t.to(compute_dtype(t.scalar_type())); }

// Rows per parallel task: about 16K elements, so small rows are not one task each.
inline int64_t grain_rows(int64_t cols) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1)); }

// A sum over rows (dgamma, dbeta, dbias) that gives the same bits for any thread count: each block of
// kRowsPerBlock rows adds into its own row of a (row_blocks(rows), features) buffer, in parallel; then
// add_blocks_in_order adds the blocks into the first one, block after block.
constexpr int64_t kRowsPerBlock = 32;

inline int64_t row_blocks(int64_t rows) { return (rows + kRowsPerBlock - 1) / kRowsPerBlock; }

template <typename scalar_t>
void add_blocks_in_order(scalar_t* partial, int64_t blocks, int64_t features) {
  using Vec = at::vec::Vectorized<scalar_t>;
  for (int64_t block = 1; block < blocks; ++block)
    at::vec::map2([](Vec sum, Vec part) { return sum + part; }, partial, partial, partial + block * features,
                  features);
}

}  // namespace mt::cpu

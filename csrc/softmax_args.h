// Argument checks and the "rows x cols" view shared by every softmax implementation.
//
// Kernels work on a contiguous (rows, cols) matrix with the softmax taken along cols. `dim` is moved
// last (a copy only when it is not last already, or when x is not contiguous) and moved back after.
#pragma once
#include <ATen/ATen.h>

namespace mt {

inline int64_t checked_softmax_dim(const at::Tensor& x, int64_t dim, const char* op) {
  TORCH_CHECK(x.dim() >= 1, op, ": x must have at least one dimension, got a 0-d tensor");
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), op, ": x must be a floating-point tensor, got ",
              x.scalar_type());
  TORCH_CHECK(dim >= -x.dim() && dim < x.dim(), op, ": dim=", dim, " is out of range for x with ",
              x.dim(), " dimension(s)");
  return dim < 0 ? dim + x.dim() : dim;
}

// x with `dim` moved last, contiguous: its storage is a (rows, cols) row-major matrix.
inline at::Tensor as_rows(const at::Tensor& x, int64_t dim) { return x.movedim(dim, -1).contiguous(); }

// Undo as_rows: the result is contiguous in x's original dimension order.
inline at::Tensor from_rows(const at::Tensor& rows_layout, int64_t dim) {
  return rows_layout.movedim(-1, dim).contiguous();
}

inline void check_same_layout(const at::Tensor& a, const at::Tensor& b, const char* op,
                              const char* name_a, const char* name_b) {
  TORCH_CHECK(a.sizes() == b.sizes(), op, ": ", name_a, " and ", name_b, " must have the same shape, got ",
              a.sizes(), " and ", b.sizes());
  TORCH_CHECK(a.scalar_type() == b.scalar_type(), op, ": ", name_a, " and ", name_b,
              " must have the same dtype, got ", a.scalar_type(), " and ", b.scalar_type());
  TORCH_CHECK(a.device() == b.device(), op, ": ", name_a, " and ", name_b,
              " must be on the same device, got ", a.device(), " and ", b.device());
}

}  // namespace mt

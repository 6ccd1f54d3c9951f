// Argument checks shared by every cross-entropy implementation: logits (rows, classes), targets (rows).
#pragma once
#include <ATen/ATen.h>

namespace mt {

inline void check_cross_entropy_args(const at::Tensor& logits, const at::Tensor& targets, double label_smoothing,
                                     const char* op) {
  TORCH_CHECK(logits.dim() == 2, op, ": logits must be (rows, classes), got ", logits.dim(), " dimension(s)");
  TORCH_CHECK(logits.size(1) >= 1, op, ": logits must have at least one class");
  TORCH_CHECK(at::isFloatingType(logits.scalar_type()), op, ": logits must be floating-point, got ",
              logits.scalar_type());
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == logits.size(0), op, ": targets must be (rows,) = (",
              logits.size(0), ",), got ", targets.sizes());
  TORCH_CHECK(targets.scalar_type() == at::kLong, op, ": targets must be int64, got ", targets.scalar_type());
  TORCH_CHECK(targets.device() == logits.device(), op, ": targets must be on logits' device, got ",
              targets.device(), " and ", logits.device());
  TORCH_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, op, ": label_smoothing must be in [0, 1], got ",
              label_smoothing);
}

}  // namespace mt

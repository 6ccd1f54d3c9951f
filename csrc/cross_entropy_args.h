// Argument checks shared by every cross-entropy implementation: logits (rows, classes), targets (rows); and
// the CUDA kernels' argument struct filled from contiguous tensors (CUDA and emulated CUDA).
#pragma once
#include <ATen/ATen.h>

#include "kernels/cross_entropy_params.cuh"

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

// Every target a class index or ignore_index (targets: `rows` int64 values in host memory).
inline void check_targets_in_range(const int64_t* targets, int64_t rows, int64_t classes, int64_t ignore_index,
                                   const char* op) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t y = targets[r];
    TORCH_CHECK(y == ignore_index || (y >= 0 && y < classes), op, ": target ", y, " at row ", r,
                " is not in [0, ", classes, ") nor ignore_index=", ignore_index);
  }
}

// The CUDA kernels' backward inputs: row_max and log_sum float32 whatever logits' dtype, grad_losses in it.
inline void check_cross_entropy_backward_args(const at::Tensor& logits, const at::Tensor& row_max,
                                             const at::Tensor& log_sum, const at::Tensor& grad_losses, const char* op) {
  for (const auto* per_row : {&row_max, &log_sum, &grad_losses})
    TORCH_CHECK(per_row->dim() == 1 && per_row->size(0) == logits.size(0) && per_row->device() == logits.device(),
                op, ": row_max, log_sum and grad_losses must be (rows,) on logits' device");
  TORCH_CHECK(row_max.scalar_type() == at::kFloat && log_sum.scalar_type() == at::kFloat, op,
              ": row_max and log_sum must be float32, got ", row_max.scalar_type(), " and ", log_sum.scalar_type());
  TORCH_CHECK(grad_losses.scalar_type() == logits.scalar_type(), op, ": grad_losses must have logits' dtype ",
              logits.scalar_type(), ", got ", grad_losses.scalar_type());
}

// The kernels' view of logits (rows, classes) and int64 targets (rows,); the rest is set by the caller.
inline CrossEntropyArgs cross_entropy_args(const at::Tensor& logits, const at::Tensor& targets, int64_t ignore_index,
                                           double label_smoothing) {
  CrossEntropyArgs a{};
  a.logits = logits.const_data_ptr();
  a.targets = targets.const_data_ptr<int64_t>();
  a.rows = static_cast<int>(logits.size(0));
  a.classes = static_cast<int>(logits.size(1));
  a.ignore_index = ignore_index;
  a.label_smoothing = static_cast<float>(label_smoothing);
  return a;
}

// The forward's view, with its outputs losses, row_max and log_sum (rows,).
inline CrossEntropyArgs cross_entropy_forward_args(const at::Tensor& logits, const at::Tensor& targets,
                                                   int64_t ignore_index, double label_smoothing, at::Tensor& losses,
                                                   at::Tensor& row_max, at::Tensor& log_sum) {
  CrossEntropyArgs a = cross_entropy_args(logits, targets, ignore_index, label_smoothing);
  a.losses = losses.mutable_data_ptr();
  a.row_max_out = row_max.mutable_data_ptr<float>();
  a.log_sum_out = log_sum.mutable_data_ptr<float>();
  return a;
}

// The backward's view: the forward's row_max and log_sum, d losses (rows,), and the output d logits.
inline CrossEntropyArgs cross_entropy_backward_args(const at::Tensor& logits, const at::Tensor& targets,
                                                    int64_t ignore_index, double label_smoothing,
                                                    const at::Tensor& row_max, const at::Tensor& log_sum,
                                                    const at::Tensor& grad_losses, at::Tensor& grad_logits) {
  CrossEntropyArgs a = cross_entropy_args(logits, targets, ignore_index, label_smoothing);
  a.row_max = row_max.const_data_ptr<float>();
  a.log_sum = log_sum.const_data_ptr<float>();
  a.grad_losses = grad_losses.const_data_ptr();
  a.grad_logits = grad_logits.mutable_data_ptr();
  return a;
}

}  // namespace mt

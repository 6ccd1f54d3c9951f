// The arguments of every cross-entropy kernel (csrc/kernels/cross_entropy_v*.cuh), filled in by the tensor
// glue (cross_entropy_args.h), type-erased like AttentionArgs: kernels cast the data pointers to their storage
// type T (float, __half or __nv_bfloat16). Contiguous: logits, grad_logits (rows, classes) and losses,
// grad_losses (rows,) in T; targets (rows,) int64; row_max, log_sum and their *_out (rows,) float32.
#pragma once
#include <cstdint>

namespace mt {

struct CrossEntropyArgs {
  const void* logits;
  const int64_t* targets;  // a class in [0, classes) or ignore_index
  void* losses;            // the forward writes the per-row losses (0 at ignored rows),
  float* row_max_out;      // m = max_c x_c
  float* log_sum_out;      // and l = log sum_c exp(x_c - m) …
  const float* row_max;    // … which the backward reads from here
  const float* log_sum;
  const void* grad_losses;  // backward only, from here on
  void* grad_logits;
  int rows, classes;
  int64_t ignore_index;
  float label_smoothing;
};

}  // namespace mt

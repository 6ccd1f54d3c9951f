// The arguments of every bias + GELU kernel (csrc/kernels/bias_gelu_v*.cuh), filled in by the tensor glue
// (bias_gelu_args.h), type-erased like AttentionArgs: kernels cast the data pointers to their storage type T
// (float, __half or __nv_bfloat16). All in T and contiguous: x, y, grad_y, grad_x (rows, cols); bias,
// grad_bias (cols,).
#pragma once

namespace mt {

struct BiasGeluArgs {
  const void* x;  // the matrix product before its bias
  const void* bias;
  void* y;
  const void* grad_y;  // backward only, from here on
  void* grad_x;
  void* grad_bias;
  int rows, cols;
  bool tanh_form;  // the tanh approximation instead of erf
};

}  // namespace mt

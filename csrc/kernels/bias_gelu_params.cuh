// The arguments of every bias + GELU kernel (csrc/kernels/bias_gelu_v*.cuh), filled in by the tensor glue
// (bias_gelu_args.h). All float32 and contiguous: x, y, grad_y, grad_x (rows, cols); bias, grad_bias (cols,).
#pragma once

namespace mt {

struct BiasGeluArgs {
  const float* x;  // the matrix product before its bias
  const float* bias;
  float* y;
  const float* grad_y;  // backward only, from here on
  float* grad_x;
  float* grad_bias;
  int rows, cols;
  bool tanh_form;  // the tanh approximation instead of erf
};

}  // namespace mt

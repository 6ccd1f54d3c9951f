// The arguments of every layer-norm kernel (csrc/kernels/layer_norm_v*.cuh), filled in by the tensor glue
// (layer_norm_args.h), type-erased like AttentionArgs: kernels cast the data pointers to their storage type T
// (float, __half or __nv_bfloat16). All contiguous: x, y, grad_y, grad_x (rows, cols) and weight, bias,
// grad_weight, grad_bias (cols,) in T; mean, rstd and their *_out (rows,) float32 whatever T.
#pragma once

namespace mt {

struct LayerNormArgs {
  const void* x;
  const void* weight;
  const void* bias;
  void* y;
  float* mean_out;  // the forward writes each row's mean and rstd = 1 / sqrt(var + eps) here …
  float* rstd_out;
  const float* mean;  // … and the backward reads them from here
  const float* rstd;
  const void* grad_y;  // backward only, from here on
  void* grad_x;
  void* grad_weight;
  void* grad_bias;
  int rows, cols;
  float eps;
};

}  // namespace mt

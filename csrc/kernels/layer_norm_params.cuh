// The arguments of every layer-norm kernel (csrc/kernels/layer_norm_v*.cuh), filled in by the tensor glue
// (csrc/cuda/layer_norm.cpp, csrc/emu/layer_norm.cpp). All float32 and contiguous: x, y, grad_y, grad_x
// (rows, cols); weight, bias, grad_weight, grad_bias (cols,); mean, rstd and their *_out (rows,).
#pragma once

namespace mt {

struct LayerNormArgs {
  const float* x;
  const float* weight;
  const float* bias;
  float* y;
  float* mean_out;  // the forward writes each row's mean and rstd = 1 / sqrt(var + eps) here …
  float* rstd_out;
  const float* mean;  // … and the backward reads them from here
  const float* rstd;
  const float* grad_y;  // backward only, from here on
  float* grad_x;
  float* grad_weight;
  float* grad_bias;
  int rows, cols;
  float eps;
};

}  // namespace mt

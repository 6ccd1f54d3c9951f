// The arguments of every attention kernel, type-erased so host code without CUDA's half types (the
// tensor glue in csrc/cuda/attention.cpp and csrc/emu/attention.cpp) can fill them in. Kernels cast the
// data pointers to their storage type T. All tensors are contiguous: q, out, grad_out, grad_q
// (B, H, N_q, D); k, v, grad_k, grad_v (B, H, N_k, D); lse and delta (B, H, N_q) float32.
#pragma once

namespace mt {

struct AttentionArgs {
  const void* q;
  const void* k;
  const void* v;
  void* out;
  float* lse;
  const bool* key_padding_mask;  // (B, N_k), true = masked; nullptr for none
  const void* grad_out;          // backward only, from here on
  float* delta;                  // rowsum(grad_out * out), computed by the backward
  void* grad_q;
  void* grad_k;
  void* grad_v;
  float* workspace;  // v1: the scores; v2: row maxima and output sums (sized in attention_ladder.cuh)
  int batch, heads, n_q, n_k, dim;
  float scale;
  bool causal;
};

}  // namespace mt

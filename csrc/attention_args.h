// Argument checks shared by every attention implementation (CPU, CUDA, emulated CUDA), and the CUDA
// kernels' argument struct filled from tensors (CUDA and emulated CUDA).
//
// q (B, H, N_q, D), k and v (B, H, N_k, D), same dtype and device; key_padding_mask (B, N_k) bool with
// True = masked; scale defaults to 1/sqrt(D). lse (B, H, N_q) is float32, or float64 when q is.
#pragma once
#include <ATen/ATen.h>

#include <cmath>
#include <optional>

#include "kernels/attention_params.cuh"

namespace mt {

inline void check_attention_inputs(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   const std::optional<at::Tensor>& key_padding_mask, const char* op) {
  TORCH_CHECK(q.dim() == 4, op, ": q must have shape (B, H, N_q, D), got ", q.sizes());
  TORCH_CHECK(k.dim() == 4, op, ": k must have shape (B, H, N_k, D), got ", k.sizes());
  TORCH_CHECK(k.sizes() == v.sizes(), op, ": k and v must have the same shape, got ", k.sizes(),
              " and ", v.sizes());
  TORCH_CHECK(q.size(0) == k.size(0) && q.size(1) == k.size(1) && q.size(3) == k.size(3), op,
              ": q ", q.sizes(), " and k ", k.sizes(), " must agree in B, H and D");
  TORCH_CHECK(q.size(3) >= 1, op, ": the head dimension D must be at least 1, got q ", q.sizes());
  TORCH_CHECK(at::isFloatingType(q.scalar_type()), op, ": q must be a floating-point tensor, got ",
              q.scalar_type());
  TORCH_CHECK(k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type(), op,
              ": q, k and v must have the same dtype, got ", q.scalar_type(), ", ", k.scalar_type(),
              " and ", v.scalar_type());
  TORCH_CHECK(k.device() == q.device() && v.device() == q.device(), op,
              ": q, k and v must be on the same device, got ", q.device(), ", ", k.device(), " and ",
              v.device());
  if (key_padding_mask.has_value()) {
    const at::Tensor& mask = *key_padding_mask;
    TORCH_CHECK(mask.scalar_type() == at::kBool, op, ": key_padding_mask must be bool, got ",
                mask.scalar_type());
    TORCH_CHECK(mask.dim() == 2 && mask.size(0) == k.size(0) && mask.size(1) == k.size(2), op,
                ": key_padding_mask must have shape (B, N_k) = (", k.size(0), ", ", k.size(2),
                "), got ", mask.sizes());
    TORCH_CHECK(mask.device() == q.device(), op, ": key_padding_mask must be on q's device ",
                q.device(), ", got ", mask.device());
  }
}

inline void check_attention_backward_inputs(const at::Tensor& q, const at::Tensor& out,
                                            const at::Tensor& lse, const at::Tensor& grad_out,
                                            const char* op) {
  TORCH_CHECK(out.sizes() == q.sizes() && grad_out.sizes() == q.sizes(), op, ": out ", out.sizes(),
              " and grad_out ", grad_out.sizes(), " must have q's shape ", q.sizes());
  TORCH_CHECK(out.scalar_type() == q.scalar_type() && grad_out.scalar_type() == q.scalar_type(), op,
              ": out and grad_out must have q's dtype ", q.scalar_type());
  TORCH_CHECK(lse.dim() == 3 && lse.size(0) == q.size(0) && lse.size(1) == q.size(1) &&
                  lse.size(2) == q.size(2),
              op, ": lse must have shape (B, H, N_q), got ", lse.sizes());
  TORCH_CHECK(out.device() == q.device() && lse.device() == q.device() &&
                  grad_out.device() == q.device(),
              op, ": out, lse and grad_out must be on q's device ", q.device());
}

inline at::ScalarType lse_dtype(const at::Tensor& q) {
  return q.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

inline double attention_scale(const at::Tensor& q, std::optional<double> scale) {
  return scale.has_value() ? *scale : 1.0 / std::sqrt(static_cast<double>(q.size(3)));
}

// A tensor whose last dimension is contiguous (the GEMMs and kernels need unit-stride rows).
inline at::Tensor rows_contiguous(const at::Tensor& t) { return t.stride(-1) == 1 ? t : t.contiguous(); }

// The CUDA kernels' arguments for contiguous q, k, v and mask (undefined: no mask); the outputs, the
// workspace and the backward's tensors are set by the caller. The tensors must outlive the launches.
inline AttentionArgs attention_args(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const at::Tensor& mask, bool causal, std::optional<double> scale) {
  AttentionArgs a{};
  a.q = q.const_data_ptr();
  a.k = k.const_data_ptr();
  a.v = v.const_data_ptr();
  a.key_padding_mask = mask.defined() ? mask.const_data_ptr<bool>() : nullptr;
  a.batch = static_cast<int>(q.size(0));
  a.heads = static_cast<int>(q.size(1));
  a.n_q = static_cast<int>(q.size(2));
  a.n_k = static_cast<int>(k.size(2));
  a.dim = static_cast<int>(q.size(3));
  a.scale = static_cast<float>(attention_scale(q, scale));
  a.causal = causal;
  return a;
}

// The backward's tensors, all contiguous: out, lse (float32) and grad_out are read; delta (B, H, N_q)
// float32 scratch, grad_q, grad_k and grad_v are written.
inline void set_backward_args(AttentionArgs& a, const at::Tensor& out, const at::Tensor& lse,
                              const at::Tensor& grad_out, at::Tensor& delta, at::Tensor& grad_q,
                              at::Tensor& grad_k, at::Tensor& grad_v) {
  a.out = const_cast<void*>(out.const_data_ptr());  // read only in the backward
  a.lse = const_cast<float*>(lse.const_data_ptr<float>());
  a.grad_out = grad_out.const_data_ptr();
  a.delta = delta.mutable_data_ptr<float>();
  a.grad_q = grad_q.mutable_data_ptr();
  a.grad_k = grad_k.mutable_data_ptr();
  a.grad_v = grad_v.mutable_data_ptr();
}

}  // namespace mt

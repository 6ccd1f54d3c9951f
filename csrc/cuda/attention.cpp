// CUDA glue of the attention ops: checks, contiguous inputs, the workspace, the current stream.
// attention_forward runs the best kernel for the dtype (attention_best_version), attention_kernel rung `version`
// (csrc/kernels/attention_ladder.cuh); attention_backward runs the backward kernels.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <limits>
#include <tuple>

#include "attention_args.h"
#include "cuda/attention_launch.h"
#include "cuda/checks.h"
#include "kernel_versions.h"

namespace mt::cuda {
namespace {

StorageDtype check_cuda_inputs(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const std::optional<at::Tensor>& key_padding_mask, const char* op) {
  check_attention_inputs(q, k, v, key_padding_mask, op);
  TORCH_CHECK(q.is_cuda(), op, ": q must be a CUDA tensor, got device ", q.device());
  const int64_t dim = q.size(3);
  TORCH_CHECK(dim % 8 == 0 && dim >= 16 && dim <= 128, op,
              ": the head dimension D must be a multiple of 8 in 16..128 on CUDA, got ", dim);
  TORCH_CHECK(q.numel() <= std::numeric_limits<int>::max() && k.numel() <= std::numeric_limits<int>::max(), op,
              ": q and k must have fewer than 2^31 elements for 32-bit indexing");
  return storage_dtype(q, "q", op);
}

at::Tensor contiguous_mask(const std::optional<at::Tensor>& mask) {
  return mask.has_value() ? mask->contiguous() : at::Tensor();
}

std::tuple<at::Tensor, at::Tensor> attention_kernel(const at::Tensor& q_in, const at::Tensor& k_in,
                                                    const at::Tensor& v_in, bool causal,
                                                    const std::optional<at::Tensor>& key_padding_mask,
                                                    std::optional<double> scale, int64_t version) {
  const char* op = "minitransformer::attention_kernel";
  const StorageDtype dtype = check_cuda_inputs(q_in, k_in, v_in, key_padding_mask, op);
  check_kernel_version(attention_versions(), version, op);
  const c10::cuda::CUDAGuard guard(q_in.device());
  const at::Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
  const at::Tensor mask = contiguous_mask(key_padding_mask);
  at::Tensor out = at::empty(q.sizes(), q.options());
  at::Tensor lse = at::empty({q.size(0), q.size(1), q.size(2)}, q.options().dtype(at::kFloat));
  if (q.numel() == 0) return {out, lse};
  if (k.size(2) == 0) return {out.zero_(), lse.fill_(-std::numeric_limits<float>::infinity())};
  AttentionArgs a = attention_args(q, k, v, mask, causal, scale);
  a.out = out.mutable_data_ptr();
  a.lse = lse.mutable_data_ptr<float>();
  const size_t workspace_floats = attention_workspace_floats(static_cast<int>(version), a);
  at::Tensor workspace = at::empty({static_cast<int64_t>(workspace_floats)}, lse.options());
  a.workspace = workspace_floats > 0 ? workspace.mutable_data_ptr<float>() : nullptr;
  C10_CUDA_CHECK(attention_forward(static_cast<int>(version), dtype, a, c10::cuda::getCurrentCUDAStream()));
  return {out, lse};
}

std::tuple<at::Tensor, at::Tensor> attention_forward_cuda(const at::Tensor& q, const at::Tensor& k,
                                                          const at::Tensor& v, bool causal,
                                                          const std::optional<at::Tensor>& key_padding_mask,
                                                          std::optional<double> scale) {
  const StorageDtype dtype = check_cuda_inputs(q, k, v, key_padding_mask, "minitransformer::attention_forward");
  return attention_kernel(q, k, v, causal, key_padding_mask, scale, attention_best_version(dtype));
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> attention_backward_cuda(
    const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in, const at::Tensor& out_in,
    const at::Tensor& lse_in, const at::Tensor& grad_out_in, bool causal,
    const std::optional<at::Tensor>& key_padding_mask, std::optional<double> scale) {
  const char* op = "minitransformer::attention_backward";
  const StorageDtype dtype = check_cuda_inputs(q_in, k_in, v_in, key_padding_mask, op);
  check_attention_backward_inputs(q_in, out_in, lse_in, grad_out_in, op);
  TORCH_CHECK(lse_in.scalar_type() == at::kFloat, op, ": lse must be float32 on CUDA, got ", lse_in.scalar_type());
  const c10::cuda::CUDAGuard guard(q_in.device());
  const at::Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
  const at::Tensor out = out_in.contiguous(), lse = lse_in.contiguous(), grad_out = grad_out_in.contiguous();
  const at::Tensor mask = contiguous_mask(key_padding_mask);
  at::Tensor grad_q = at::empty(q.sizes(), q.options());
  at::Tensor grad_k = at::empty(k.sizes(), k.options()), grad_v = at::empty(v.sizes(), v.options());
  if (q.numel() == 0 || k.numel() == 0) return {grad_q.zero_(), grad_k.zero_(), grad_v.zero_()};
  at::Tensor delta = at::empty({q.size(0), q.size(1), q.size(2)}, lse.options());
  AttentionArgs a = attention_args(q, k, v, mask, causal, scale);
  set_backward_args(a, out, lse, grad_out, delta, grad_q, grad_k, grad_v);
  C10_CUDA_CHECK(attention_backward(dtype, a, c10::cuda::getCurrentCUDAStream()));
  return {grad_q, grad_k, grad_v};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CUDA, m) {
  m.impl("attention_forward", &attention_forward_cuda);
  m.impl("attention_backward", &attention_backward_cuda);
  m.impl("attention_kernel", &attention_kernel);
}

}  // namespace mt::cuda

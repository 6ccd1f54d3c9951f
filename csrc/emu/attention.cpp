// The CUDA attention ladder (csrc/kernels/attention_v*.cuh) and its backward kernels, run on float32
// CPU tensors by the emulator: the ops emulated_attention_forward and emulated_attention_backward.
#include "emu/launch.h"  // first: it includes the torch headers before the CUDA macros

#include <torch/library.h>

#include <string>
#include <tuple>

#include "attention_args.h"
#include "kernels/attention_backward.cuh"
#include "kernels/attention_v1.cuh"
#include "kernels/attention_v2.cuh"
#include "kernels/attention_v3.cuh"

namespace mt::emulated {
namespace {

constexpr int64_t kVersions = 3;

// Contiguous float32 copies of the inputs and the kernels' argument struct pointing at them.
struct Prepared {
  at::Tensor q, k, v, mask;
  AttentionArgs args{};
};

Prepared prepare(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                 const std::optional<at::Tensor>& key_padding_mask, std::optional<double> scale, bool causal,
                 const char* op) {
  check_attention_inputs(q, k, v, key_padding_mask, op);
  check_float_cpu(q, op, "q");
  TORCH_CHECK(q.size(3) <= attention::kMaxHeadDim, op, ": the head dimension D must be at most ",
              attention::kMaxHeadDim, " for the CUDA kernels, got ", q.size(3));
  Prepared p{q.contiguous(), k.contiguous(), v.contiguous(),
             key_padding_mask.has_value() ? key_padding_mask->contiguous() : at::Tensor()};
  AttentionArgs& a = p.args;
  a.q = p.q.const_data_ptr<float>();
  a.k = p.k.const_data_ptr<float>();
  a.v = p.v.const_data_ptr<float>();
  a.key_padding_mask = p.mask.defined() ? p.mask.const_data_ptr<bool>() : nullptr;
  a.batch = static_cast<int>(q.size(0));
  a.heads = static_cast<int>(q.size(1));
  a.n_q = static_cast<int>(q.size(2));
  a.n_k = static_cast<int>(k.size(2));
  a.dim = static_cast<int>(q.size(3));
  a.scale = static_cast<float>(attention_scale(q, scale));
  a.causal = causal;
  return p;
}

std::tuple<at::Tensor, at::Tensor> forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                           bool causal, const std::optional<at::Tensor>& key_padding_mask,
                                           std::optional<double> scale, int64_t version, c10::string_view order,
                                           int64_t seed, c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_attention_forward";
  Prepared p = prepare(q, k, v, key_padding_mask, scale, causal, op);
  TORCH_CHECK(version >= 1 && version <= kVersions, op, ": version must be in 1..", kVersions, ", got ", version);
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  at::Tensor out = at::empty(q.sizes(), p.q.options());
  at::Tensor lse = at::empty({q.size(0), q.size(1), q.size(2)}, p.q.options());
  if (q.numel() == 0) return {out, lse};
  if (k.size(2) == 0) return {out.zero_(), lse.fill_(-INFINITY)};
  AttentionArgs& a = p.args;
  a.out = out.mutable_data_ptr<float>();
  a.lse = lse.mutable_data_ptr<float>();
  at::Tensor workspace;
  switch (version) {
    case 1:
      workspace = at::empty({q.size(0), q.size(1), q.size(2), k.size(2)}, p.q.options());
      a.workspace = workspace.mutable_data_ptr<float>();
      MT_EMU_LAUNCH(options, attention_v1_scores_config(a), attention_v1_scores_kernel<float>, a);
      MT_EMU_LAUNCH(options, attention_v1_softmax_config(a), attention_v1_softmax_kernel, a);
      MT_EMU_LAUNCH(options, attention_v1_output_config(a), attention_v1_output_kernel<float>, a);
      break;
    case 2:
      workspace = at::empty({static_cast<int64_t>(attention_v2_workspace_floats(a))}, p.q.options());
      a.workspace = workspace.mutable_data_ptr<float>();
      MT_EMU_LAUNCH(options, attention_v2_config(a), attention_v2_kernel<float>, a);
      break;
    default:
      MT_EMU_LAUNCH(options, attention_v3_config(a), attention_v3_kernel<float>, a);
  }
  return {out, lse};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> backward(
    const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& out, const at::Tensor& lse,
    const at::Tensor& grad_out, bool causal, const std::optional<at::Tensor>& key_padding_mask,
    std::optional<double> scale, c10::string_view order, int64_t seed, c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_attention_backward";
  Prepared p = prepare(q, k, v, key_padding_mask, scale, causal, op);
  check_attention_backward_inputs(q, out, lse, grad_out, op);
  check_float_cpu(lse, op, "lse");
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  const at::Tensor out_c = out.contiguous(), lse_c = lse.contiguous(), grad_out_c = grad_out.contiguous();
  at::Tensor grad_q = at::zeros(q.sizes(), p.q.options());
  at::Tensor grad_k = at::zeros(k.sizes(), p.q.options()), grad_v = at::zeros(v.sizes(), p.q.options());
  if (q.numel() == 0 || k.numel() == 0) return {grad_q, grad_k, grad_v};
  at::Tensor delta = at::empty({q.size(0), q.size(1), q.size(2)}, p.q.options());
  AttentionArgs& a = p.args;
  a.out = const_cast<float*>(out_c.const_data_ptr<float>());  // read only in the backward
  a.lse = const_cast<float*>(lse_c.const_data_ptr<float>());
  a.grad_out = grad_out_c.const_data_ptr<float>();
  a.delta = delta.mutable_data_ptr<float>();
  a.grad_q = grad_q.mutable_data_ptr<float>();
  a.grad_k = grad_k.mutable_data_ptr<float>();
  a.grad_v = grad_v.mutable_data_ptr<float>();
  MT_EMU_LAUNCH(options, attention_backward_delta_config(a), attention_backward_delta_kernel<float>, a);
  MT_EMU_LAUNCH(options, attention_backward_dkdv_config(a), attention_backward_dkdv_kernel<float>, a);
  MT_EMU_LAUNCH(options, attention_backward_dq_config(a), attention_backward_dq_kernel<float>, a);
  return {grad_q, grad_k, grad_v};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("emulated_attention_forward", &forward);
  m.impl("emulated_attention_backward", &backward);
}

}  // namespace mt::emulated

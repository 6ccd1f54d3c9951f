// The CUDA attention ladder (csrc/kernels/attention_ladder.cuh) and its backward kernels, run on float32,
// float16 and bfloat16 CPU tensors by the emulator: the ops emulated_attention_forward (version None: the
// best for q's dtype) and emulated_attention_backward. lse and delta are float32 whatever q's dtype.
#include "emu/launch.h"  // first: it includes the torch headers before the CUDA macros

#include <torch/library.h>

#include <string>
#include <tuple>

#include "attention_args.h"
#include "kernel_versions.h"
#include "kernels/attention_ladder.cuh"

namespace mt::emulated {

std::vector<int64_t> attention_versions() { return ladder_versions(kAttentionLadder<float>); }
std::vector<int64_t> attention_tensor_core_versions() { return tensor_core_versions<float>(); }

namespace {

// Contiguous copies of the inputs, checked for the emulated kernels (float32, float16 or bfloat16;
// D <= kMaxHeadDim).
struct Inputs {
  at::Tensor q, k, v, mask;
};

Inputs prepare(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
               const std::optional<at::Tensor>& key_padding_mask, const char* op) {
  check_attention_inputs(q, k, v, key_padding_mask, op);
  check_storage_cpu(q, op, "q");
  TORCH_CHECK(q.size(3) <= attention::kMaxHeadDim, op, ": the head dimension D must be at most ",
              attention::kMaxHeadDim, " for the CUDA kernels, got ", q.size(3));
  return {q.contiguous(), k.contiguous(), v.contiguous(),
          key_padding_mask.has_value() ? key_padding_mask->contiguous() : at::Tensor()};
}

// The kernels in order, each on the CPU with the given options.
void launch_all(const AttentionKernel (&kernels)[kMaxAttentionKernels], const AttentionArgs& args,
                const emu::Options& options) {
  for (const AttentionKernel& k : kernels) launch_kernel(k, args, options);
}

std::tuple<at::Tensor, at::Tensor> forward(const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in,
                                           bool causal, const std::optional<at::Tensor>& key_padding_mask,
                                           std::optional<double> scale, std::optional<int64_t> version_or_best,
                                           c10::string_view order,
                                           int64_t seed, c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_attention_forward";
  const Inputs in = prepare(q_in, k_in, v_in, key_padding_mask, op);
  const at::ScalarType dtype = in.q.scalar_type();
  const int64_t version = version_or_best.value_or(
      with_storage_type(dtype, [](auto storage) { return best_attention_rung<decltype(storage)>().version; }));
  check_kernel_version(attention_versions(), version, op);
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  at::Tensor out = at::empty(in.q.sizes(), in.q.options());
  at::Tensor lse = at::empty({in.q.size(0), in.q.size(1), in.q.size(2)}, in.q.options().dtype(at::kFloat));
  if (in.q.numel() == 0) return {out, lse};
  if (in.k.size(2) == 0) return {out.zero_(), lse.fill_(-INFINITY)};
  AttentionArgs a = attention_args(in.q, in.k, in.v, in.mask, causal, scale);
  a.out = out.mutable_data_ptr();
  a.lse = lse.mutable_data_ptr<float>();
  with_storage_type(dtype, [&](auto storage) {
    const AttentionRung& rung = *find_rung(kAttentionLadder<decltype(storage)>, version);
    at::Tensor workspace = at::empty({static_cast<int64_t>(rung.workspace_floats(a))}, lse.options());
    a.workspace = workspace.numel() > 0 ? workspace.mutable_data_ptr<float>() : nullptr;
    launch_all(rung.kernels, a, options);
  });
  return {out, lse};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> backward(
    const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in, const at::Tensor& out,
    const at::Tensor& lse, const at::Tensor& grad_out, bool causal,
    const std::optional<at::Tensor>& key_padding_mask, std::optional<double> scale, c10::string_view order,
    int64_t seed, c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_attention_backward";
  const Inputs in = prepare(q_in, k_in, v_in, key_padding_mask, op);
  check_attention_backward_inputs(q_in, out, lse, grad_out, op);
  TORCH_CHECK(lse.scalar_type() == at::kFloat, op, ": lse must be float32, got ", lse.scalar_type());
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  at::Tensor grad_q = at::zeros(in.q.sizes(), in.q.options());
  at::Tensor grad_k = at::zeros(in.k.sizes(), in.q.options()), grad_v = at::zeros(in.v.sizes(), in.q.options());
  if (in.q.numel() == 0 || in.k.numel() == 0) return {grad_q, grad_k, grad_v};
  at::Tensor delta = at::empty({in.q.size(0), in.q.size(1), in.q.size(2)}, in.q.options().dtype(at::kFloat));
  AttentionArgs a = attention_args(in.q, in.k, in.v, in.mask, causal, scale);
  const at::Tensor out_c = out.contiguous(), lse_c = lse.contiguous(), grad_out_c = grad_out.contiguous();
  set_backward_args(a, out_c, lse_c, grad_out_c, delta, grad_q, grad_k, grad_v);
  with_storage_type(in.q.scalar_type(),
                    [&](auto storage) { launch_all(kAttentionBackward<decltype(storage)>, a, options); });
  return {grad_q, grad_k, grad_v};
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("emulated_attention_forward", &forward);
  m.impl("emulated_attention_backward", &backward);
}

}  // namespace mt::emulated

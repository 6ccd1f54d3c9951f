// The CUDA cross-entropy ladder (csrc/kernels/cross_entropy_ladder.cuh) run on float32, float16 and bfloat16
// CPU tensors by the emulator: the ops emulated_cross_entropy_forward and emulated_cross_entropy_backward, one
// rung each. The row max and log-sum are float32 whatever the logits' dtype.
#include "emu/launch.h"  // first: it includes the torch headers before the CUDA macros

#include <torch/library.h>

#include <tuple>

#include "cross_entropy_args.h"
#include "kernel_versions.h"
#include "kernels/cross_entropy_ladder.cuh"

namespace mt::emulated {

std::vector<int64_t> cross_entropy_versions() { return ladder_versions(kCrossEntropyLadder<float>); }

namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor> forward(const at::Tensor& logits_in, const at::Tensor& targets_in,
                                                       int64_t ignore_index, double label_smoothing, int64_t version,
                                                       c10::string_view order, int64_t seed,
                                                       c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_cross_entropy_forward";
  check_cross_entropy_args(logits_in, targets_in, label_smoothing, op);
  check_storage_cpu(logits_in, op, "logits");
  check_kernel_version(cross_entropy_versions(), version, op);
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  const at::Tensor logits = logits_in.contiguous(), targets = targets_in.contiguous();
  check_targets_in_range(targets.const_data_ptr<int64_t>(), logits.size(0), logits.size(1), ignore_index, op);
  at::Tensor losses = at::empty({logits.size(0)}, logits.options());
  at::Tensor row_max = at::empty_like(losses, at::kFloat), log_sum = at::empty_like(row_max);
  if (logits.size(0) == 0) return {losses, row_max, log_sum};
  CrossEntropyArgs a = cross_entropy_forward_args(logits, targets, ignore_index, label_smoothing, losses, row_max,
                                                  log_sum);
  with_storage_type(logits.scalar_type(), [&](auto storage) {
    launch_kernel(find_rung(kCrossEntropyLadder<decltype(storage)>, version)->forward, a, options);
  });
  return {losses, row_max, log_sum};
}

at::Tensor backward(const at::Tensor& logits_in, const at::Tensor& targets_in, const at::Tensor& row_max_in,
                    const at::Tensor& log_sum_in, const at::Tensor& grad_losses_in, int64_t ignore_index,
                    double label_smoothing, int64_t version, c10::string_view order, int64_t seed,
                    c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_cross_entropy_backward";
  check_cross_entropy_args(logits_in, targets_in, label_smoothing, op);
  check_storage_cpu(logits_in, op, "logits");
  check_cross_entropy_backward_args(logits_in, row_max_in, log_sum_in, grad_losses_in, op);
  check_kernel_version(cross_entropy_versions(), version, op);
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  const at::Tensor logits = logits_in.contiguous(), targets = targets_in.contiguous();
  check_targets_in_range(targets.const_data_ptr<int64_t>(), logits.size(0), logits.size(1), ignore_index, op);
  const at::Tensor row_max = row_max_in.contiguous(), log_sum = log_sum_in.contiguous();
  const at::Tensor grad_losses = grad_losses_in.contiguous();
  at::Tensor grad_logits = at::empty_like(logits);
  if (logits.size(0) == 0) return grad_logits;
  CrossEntropyArgs a = cross_entropy_backward_args(logits, targets, ignore_index, label_smoothing, row_max, log_sum,
                                                   grad_losses, grad_logits);
  with_storage_type(logits.scalar_type(), [&](auto storage) {
    launch_kernel(find_rung(kCrossEntropyLadder<decltype(storage)>, version)->backward, a, options);
  });
  return grad_logits;
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("emulated_cross_entropy_forward", &forward);
  m.impl("emulated_cross_entropy_backward", &backward);
}

}  // namespace mt::emulated

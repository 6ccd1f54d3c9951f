// CUDA glue of the cross-entropy ops (float32, float16 and bfloat16 logits; the row max and log-sum float32):
// checks, contiguous inputs, the current stream. cross_entropy_forward
// and cross_entropy_backward run the best rung of the ladder (csrc/kernels/cross_entropy_ladder.cuh). The
// targets stay on the GPU, unchecked on the host (that would synchronise): a target outside [0, classes)
// that is not ignore_index gives a NaN loss.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <tuple>

#include "cross_entropy_args.h"
#include "cuda/checks.h"
#include "cuda/cross_entropy_launch.h"

namespace mt::cuda {
namespace {

int best_version() {
  static const int best = static_cast<int>(cross_entropy_versions().back());
  return best;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> forward(const at::Tensor& logits_in, const at::Tensor& targets_in,
                                                       int64_t ignore_index, double label_smoothing) {
  const char* op = "minitransformer::cross_entropy_forward";
  check_cross_entropy_args(logits_in, targets_in, label_smoothing, op);
  check_cuda_tensor(logits_in, "logits", op);
  const StorageDtype dtype = storage_dtype(logits_in, "logits", op);
  const c10::cuda::CUDAGuard guard(logits_in.device());
  const at::Tensor logits = logits_in.contiguous(), targets = targets_in.contiguous();
  at::Tensor losses = at::empty({logits.size(0)}, logits.options());
  at::Tensor row_max = at::empty_like(losses, at::kFloat), log_sum = at::empty_like(row_max);
  if (logits.size(0) == 0) return {losses, row_max, log_sum};
  CrossEntropyArgs a = cross_entropy_forward_args(logits, targets, ignore_index, label_smoothing, losses, row_max,
                                                  log_sum);
  C10_CUDA_CHECK(cross_entropy_forward(best_version(), dtype, a, c10::cuda::getCurrentCUDAStream()));
  return {losses, row_max, log_sum};
}

at::Tensor backward(const at::Tensor& logits_in, const at::Tensor& targets_in, const at::Tensor& row_max_in,
                    const at::Tensor& log_sum_in, const at::Tensor& grad_losses_in, int64_t ignore_index,
                    double label_smoothing) {
  const char* op = "minitransformer::cross_entropy_backward";
  check_cross_entropy_args(logits_in, targets_in, label_smoothing, op);
  check_cuda_tensor(logits_in, "logits", op);
  const StorageDtype dtype = storage_dtype(logits_in, "logits", op);
  check_cross_entropy_backward_args(logits_in, row_max_in, log_sum_in, grad_losses_in, op);
  const c10::cuda::CUDAGuard guard(logits_in.device());
  const at::Tensor logits = logits_in.contiguous(), targets = targets_in.contiguous();
  const at::Tensor row_max = row_max_in.contiguous(), log_sum = log_sum_in.contiguous();
  const at::Tensor grad_losses = grad_losses_in.contiguous();
  at::Tensor grad_logits = at::empty_like(logits);
  if (logits.size(0) == 0) return grad_logits;
  CrossEntropyArgs a = cross_entropy_backward_args(logits, targets, ignore_index, label_smoothing, row_max, log_sum,
                                                   grad_losses, grad_logits);
  C10_CUDA_CHECK(cross_entropy_backward(best_version(), dtype, a, c10::cuda::getCurrentCUDAStream()));
  return grad_logits;
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CUDA, m) {
  m.impl("cross_entropy_forward", &forward);
  m.impl("cross_entropy_backward", &backward);
}

}  // namespace mt::cuda

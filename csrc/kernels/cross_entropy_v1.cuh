// cross-entropy v1 — one thread per row (the naive port of the CPU loop).
//
//   forward:  m = max_c x_c,  l = log sum_c exp(x_c - m),
//             loss = l + (1 - eps)(m - x_y) + eps (m - mean_c x_c)       (y the target, eps the smoothing)
//   backward: dx_c = g (exp(x_c - m - l) - q_c),  q = (1 - eps) one_hot(y) + eps / C   (g = dL/dloss)
//
// The forward reads its row twice (the max; then the exponentials and, for the smoothing, the plain sum)
// and saves m and l, so the backward is one pass that never forms the probabilities. A row whose target
// is ignore_index has loss 0 and gradient 0; a target outside [0, C) (which the host glue rejects before
// launching; a kernel has no way to raise) gives a NaN loss. With one thread per row a vocabulary row of
// 30,000 logits is a 30,000-step serial loop, and neighbouring threads read addresses a row apart.
// Storage type T: float, __half or __nv_bfloat16, loaded to float32 and stored back (kernels/common.cuh);
// m and l are float32 whatever T, the loss and the gradient are rounded to T.
#pragma once
#include "kernels/common.cuh"
#include "kernels/cross_entropy_params.cuh"

namespace mt {

// The loss of a row from its statistics; NaN for a target outside [0, classes).
template <typename T>
__device__ __forceinline__ float cross_entropy_loss(const CrossEntropyArgs& a, const T* x, int64_t target, float m,
                                                    float l, float sum) {
  if (target == a.ignore_index) return 0.f;
  if (target < 0 || target >= a.classes) return NAN;
  const float eps = a.label_smoothing;
  return l + (1.f - eps) * (m - to_float(x[target])) + eps * (m - sum / a.classes);
}

template <typename T>
__global__ void cross_entropy_v1_forward_kernel(CrossEntropyArgs a) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.rows) return;
  const T* x = static_cast<const T*>(a.logits) + static_cast<size_t>(row) * a.classes;
  float m = -INFINITY;
  for (int c = 0; c < a.classes; ++c) m = fmaxf(m, to_float(x[c]));
  float exp_sum = 0.f, sum = 0.f;
  for (int c = 0; c < a.classes; ++c) {
    exp_sum += expf(to_float(x[c]) - m);
    sum += to_float(x[c]);
  }
  const float l = logf(exp_sum);
  a.row_max_out[row] = m;
  a.log_sum_out[row] = l;
  store(static_cast<T*>(a.losses) + row, cross_entropy_loss(a, x, a.targets[row], m, l, sum));
}

template <typename T>
__global__ void cross_entropy_v1_backward_kernel(CrossEntropyArgs a) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.rows) return;
  const size_t start = static_cast<size_t>(row) * a.classes;
  const T* x = static_cast<const T*>(a.logits) + start;
  T* dx = static_cast<T*>(a.grad_logits) + start;
  const int64_t target = a.targets[row];
  if (target == a.ignore_index) {
    for (int c = 0; c < a.classes; ++c) store(&dx[c], 0.f);
    return;
  }
  const float m = a.row_max[row], l = a.log_sum[row], g = to_float(static_cast<const T*>(a.grad_losses)[row]);
  const float eps = a.label_smoothing, smooth = g * eps / a.classes, hit = g * (1.f - eps);
  for (int c = 0; c < a.classes; ++c)
    store(&dx[c], g * expf(to_float(x[c]) - m - l) - smooth - (c == target ? hit : 0.f));
}

inline LaunchConfig cross_entropy_v1_config(const CrossEntropyArgs& a) {
  const int threads = 128;
  return {dim3(ceil_div(a.rows, threads)), dim3(threads), 0};
}

}  // namespace mt

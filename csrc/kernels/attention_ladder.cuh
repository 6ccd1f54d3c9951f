// The attention ladder, in one place (kernels/ladder.cuh): every rung, with the scratch memory it needs
// and its kernels in launch order, each with the host function that gives its grid, block and shared
// memory; and the kernels of the backward. The CUDA launcher (csrc/cuda/attention_launch.cu) and the
// emulator (csrc/emu/attention.cpp) launch them from here; kernel_versions("attention") reports the
// versions listed here.
//
// To add a rung: write attention_v5.cuh (its kernels, their *_config functions and, if it needs
// scratch memory, attention_v5_workspace_floats, as the others do), include it below and add its line
// to kAttentionLadder. The best kernel, the one the op `attention_forward` runs on CUDA tensors, is the
// last line, except that float32 inputs skip the rungs marked tensor_cores (which round them to half
// precision): best_attention_rung. The backward needs only a rung's out and lse, so it serves every rung.
#pragma once
#include "kernels/attention_backward.cuh"
#include "kernels/attention_v1.cuh"
#include "kernels/attention_v2.cuh"
#include "kernels/attention_v3.cuh"
#include "kernels/attention_v4.cuh"
#include "kernels/ladder.cuh"

#include <iterator>
#include <type_traits>
#include <vector>

namespace mt {

constexpr int kMaxAttentionKernels = 3;  // launches per rung (v1 and the backward have three)

// One launch: kernel<<<config(args)>>>(args).
struct AttentionKernel {
  const char* name;  // for the emulator's error messages
  void (*kernel)(AttentionArgs);
  LaunchConfig (*config)(const AttentionArgs&);
};

struct AttentionRung {
  int version;
  size_t (*workspace)(const AttentionArgs&);      // floats of AttentionArgs::workspace; nullptr: none
  AttentionKernel kernels[kMaxAttentionKernels];  // launched in order; the unused ones are {} (no kernel)
  bool tensor_cores = false;  // its products run on tensor cores from float16/bfloat16 operands

  size_t workspace_floats(const AttentionArgs& a) const { return workspace == nullptr ? 0 : workspace(a); }
};

// The rungs for storage type T: float, and on the GPU also __half and __nv_bfloat16.
template <typename T>
inline const AttentionRung kAttentionLadder[] = {
    {1, attention_v1_workspace_floats,
     {{"attention_v1_scores", attention_v1_scores_kernel<T>, attention_v1_scores_config},
      {"attention_v1_softmax", attention_v1_softmax_kernel, attention_v1_softmax_config},
      {"attention_v1_output", attention_v1_output_kernel<T>, attention_v1_output_config}}},
    {2, attention_v2_workspace_floats, {{"attention_v2", attention_v2_kernel<T>, attention_v2_config}}},
    {3, nullptr, {{"attention_v3", attention_v3_kernel<T>, attention_v3_config}}},
    {4, nullptr, {{"attention_v4", attention_v4_kernel<T>, attention_v4_config}}, true},
};

// The rung the op attention_forward runs for storage type T: the last, but for float32 the last without
// tensor cores, so that a float32 op keeps float32 accuracy (a tensor-core rung runs when asked by number).
template <typename T>
const AttentionRung& best_attention_rung() {
  const auto& ladder = kAttentionLadder<T>;
  size_t best = std::size(ladder) - 1;
  while (std::is_same_v<T, float> && ladder[best].tensor_cores && best > 0) --best;
  return ladder[best];
}

// The versions of the rungs marked tensor_cores.
template <typename T>
std::vector<int64_t> tensor_core_versions() {
  std::vector<int64_t> versions;
  for (const AttentionRung& rung : kAttentionLadder<T>)
    if (rung.tensor_cores) versions.push_back(rung.version);
  return versions;
}

// grad_q, grad_k, grad_v (and delta) from q, k, v, out, lse and grad_out, in this order.
template <typename T>
inline const AttentionKernel kAttentionBackward[kMaxAttentionKernels] = {
    {"attention_backward_delta", attention_backward_delta_kernel<T>, attention_backward_delta_config},
    {"attention_backward_dkdv", attention_backward_dkdv_kernel<T>, attention_backward_dkdv_config},
    {"attention_backward_dq", attention_backward_dq_kernel<T>, attention_backward_dq_config},
};

}  // namespace mt

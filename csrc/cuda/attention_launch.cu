// Launchers of the CUDA attention ladder and its backward. No torch headers here (nvcc builds
// in ~30 s instead of minutes): the tensor glue is csrc/cuda/attention.cpp. Every kernel runs on the stream it is
// given — the caller passes PyTorch's current stream, which keeps CUDA graphs and torch.compile correct.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda/attention_launch.h"
#include "kernels/attention_backward.cuh"
#include "kernels/attention_v1.cuh"
#include "kernels/attention_v2.cuh"
#include "kernels/attention_v3.cuh"

namespace mt::cuda {
namespace {

constexpr size_t kDefaultSharedLimit = 48 * 1024;  // above this a kernel must opt in

template <typename... Params>
cudaError_t launch(const LaunchConfig& config, cudaStream_t stream, void (*kernel)(Params...),
                   const AttentionArgs& args) {
  if (config.grid.x == 0 || config.grid.y == 0 || config.grid.z == 0) return cudaSuccess;
  if (config.shared_bytes > kDefaultSharedLimit) {
    const cudaError_t error = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                   static_cast<int>(config.shared_bytes));
    if (error != cudaSuccess) return error;
  }
  kernel<<<config.grid, config.block, config.shared_bytes, stream>>>(args);
  return cudaGetLastError();
}

template <typename T>
cudaError_t forward(int version, const AttentionArgs& a, cudaStream_t stream) {
  switch (version) {
    case 1: {
      cudaError_t error = launch(attention_v1_scores_config(a), stream, attention_v1_scores_kernel<T>, a);
      if (error == cudaSuccess) error = launch(attention_v1_softmax_config(a), stream, attention_v1_softmax_kernel, a);
      if (error == cudaSuccess) error = launch(attention_v1_output_config(a), stream, attention_v1_output_kernel<T>, a);
      return error;
    }
    case 2: return launch(attention_v2_config(a), stream, attention_v2_kernel<T>, a);
    case 3: return launch(attention_v3_config(a), stream, attention_v3_kernel<T>, a);
    default: return cudaErrorInvalidValue;
  }
}

template <typename T>
cudaError_t backward(const AttentionArgs& a, cudaStream_t stream) {
  cudaError_t error = launch(attention_backward_delta_config(a), stream, attention_backward_delta_kernel<T>, a);
  if (error == cudaSuccess) error = launch(attention_backward_dkdv_config(a), stream, attention_backward_dkdv_kernel<T>, a);
  if (error == cudaSuccess) error = launch(attention_backward_dq_config(a), stream, attention_backward_dq_kernel<T>, a);
  return error;
}

}  // namespace

size_t attention_workspace_floats(int version, const AttentionArgs& a) {
  if (version == 1) return static_cast<size_t>(a.batch) * a.heads * a.n_q * a.n_k;
  if (version == 2) return attention_v2_workspace_floats(a);
  return 0;
}

cudaError_t attention_forward(int version, AttentionDtype dtype, const AttentionArgs& args, cudaStream_t stream) {
  switch (dtype) {
    case AttentionDtype::float16: return forward<__half>(version, args, stream);
    case AttentionDtype::bfloat16: return forward<__nv_bfloat16>(version, args, stream);
    default: return forward<float>(version, args, stream);
  }
}

cudaError_t attention_backward(AttentionDtype dtype, const AttentionArgs& args, cudaStream_t stream) {
  switch (dtype) {
    case AttentionDtype::float16: return backward<__half>(args, stream);
    case AttentionDtype::bfloat16: return backward<__nv_bfloat16>(args, stream);
    default: return backward<float>(args, stream);
  }
}

}  // namespace mt::cuda

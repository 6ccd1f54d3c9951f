// Launchers of the CUDA attention ladder and its backward (csrc/kernels/attention_ladder.cuh). No torch
// headers here (nvcc builds in ~30 s instead of minutes): the tensor glue is csrc/cuda/attention.cpp. Every
// kernel runs on the stream it is given — the caller passes PyTorch's current stream, which keeps CUDA
// graphs and torch.compile correct.
#include "cuda/attention_launch.h"
#include "kernels/attention_ladder.cuh"

namespace mt::cuda {
namespace {

constexpr size_t kDefaultSharedLimit = 48 * 1024;  // above this a kernel must opt in

cudaError_t launch(const AttentionKernel& k, const AttentionArgs& args, cudaStream_t stream) {
  const LaunchConfig config = k.config(args);
  if (config.grid.x == 0 || config.grid.y == 0 || config.grid.z == 0) return cudaSuccess;
  if (config.shared_bytes > kDefaultSharedLimit) {
    const cudaError_t error = cudaFuncSetAttribute(k.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                   static_cast<int>(config.shared_bytes));
    if (error != cudaSuccess) return error;
  }
  k.kernel<<<config.grid, config.block, config.shared_bytes, stream>>>(args);
  return cudaGetLastError();
}

// The kernels in order, stopping at the first error.
cudaError_t launch_all(const AttentionKernel (&kernels)[kMaxAttentionKernels], const AttentionArgs& args,
                       cudaStream_t stream) {
  for (const AttentionKernel& k : kernels) {
    if (k.kernel == nullptr) continue;
    const cudaError_t error = launch(k, args, stream);
    if (error != cudaSuccess) return error;
  }
  return cudaSuccess;
}

template <typename T>
cudaError_t forward(int version, const AttentionArgs& args, cudaStream_t stream) {
  const AttentionRung* rung = find_rung(kAttentionLadder<T>, version);
  return rung == nullptr ? cudaErrorInvalidValue : launch_all(rung->kernels, args, stream);
}

}  // namespace

std::vector<int64_t> attention_versions() { return ladder_versions(kAttentionLadder<float>); }

int attention_best_version(StorageDtype dtype) {
  return with_storage_type(dtype, [](auto storage) { return best_attention_rung<decltype(storage)>().version; });
}

size_t attention_workspace_floats(int version, const AttentionArgs& args) {
  const AttentionRung* rung = find_rung(kAttentionLadder<float>, version);  // the same for every dtype
  return rung == nullptr ? 0 : rung->workspace_floats(args);
}

cudaError_t attention_forward(int version, StorageDtype dtype, const AttentionArgs& args, cudaStream_t stream) {
  return with_storage_type(dtype, [&](auto storage) { return forward<decltype(storage)>(version, args, stream); });
}

cudaError_t attention_backward(StorageDtype dtype, const AttentionArgs& args, cudaStream_t stream) {
  return with_storage_type(dtype, [&](auto storage) {
    return launch_all(kAttentionBackward<decltype(storage)>, args, stream);
  });
}

}  // namespace mt::cuda

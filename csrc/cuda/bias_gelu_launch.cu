// Launchers of the CUDA bias + GELU ladder (csrc/kernels/bias_gelu_ladder.cuh). No torch headers here: the
// tensor glue is csrc/cuda/bias_gelu.cpp. Every kernel runs on the stream it is given (PyTorch's current
// stream).
#include "cuda/bias_gelu_launch.h"
#include "kernels/bias_gelu_ladder.cuh"

namespace mt::cuda {
namespace {

cudaError_t launch(const BiasGeluKernel& k, const BiasGeluArgs& args, cudaStream_t stream) {
  if (k.kernel == nullptr) return cudaSuccess;
  const LaunchConfig config = k.config(args);
  k.kernel<<<config.grid, config.block, config.shared_bytes, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace

std::vector<int64_t> bias_gelu_versions() { return ladder_versions(kBiasGeluLadder<float>); }

cudaError_t bias_gelu_forward(int version, StorageDtype dtype, const BiasGeluArgs& args, cudaStream_t stream) {
  return with_storage_type(dtype, [&](auto storage) {
    const BiasGeluRung* rung = find_rung(kBiasGeluLadder<decltype(storage)>, version);
    return rung == nullptr ? cudaErrorInvalidValue : launch(rung->forward, args, stream);
  });
}

cudaError_t bias_gelu_backward(int version, StorageDtype dtype, const BiasGeluArgs& args, cudaStream_t stream) {
  return with_storage_type(dtype, [&](auto storage) {
    const BiasGeluRung* rung = find_rung(kBiasGeluLadder<decltype(storage)>, version);
    if (rung == nullptr) return cudaErrorInvalidValue;
    for (const BiasGeluKernel& k : rung->backward) {
      const cudaError_t error = launch(k, args, stream);
      if (error != cudaSuccess) return error;
    }
    return cudaSuccess;
  });
}

}  // namespace mt::cuda

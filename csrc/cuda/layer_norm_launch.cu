// Launchers of the CUDA layer-norm ladder (csrc/kernels/layer_norm_ladder.cuh). No torch headers here: the
// tensor glue is csrc/cuda/layer_norm.cpp. Every kernel runs on the stream it is given (PyTorch's current
// stream).
#include "cuda/layer_norm_launch.h"
#include "kernels/layer_norm_ladder.cuh"

namespace mt::cuda {
namespace {

cudaError_t launch(const LayerNormKernel& k, const LayerNormArgs& args, cudaStream_t stream) {
  const LaunchConfig config = k.config(args);
  k.kernel<<<config.grid, config.block, config.shared_bytes, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace

std::vector<int64_t> layer_norm_versions() { return ladder_versions(kLayerNormLadder<float>); }

cudaError_t layer_norm_forward(int version, StorageDtype dtype, const LayerNormArgs& args, cudaStream_t stream) {
  return with_storage_type(dtype, [&](auto storage) {
    const LayerNormRung* rung = find_rung(kLayerNormLadder<decltype(storage)>, version);
    return rung == nullptr ? cudaErrorInvalidValue : launch(rung->forward, args, stream);
  });
}

cudaError_t layer_norm_backward(int version, StorageDtype dtype, const LayerNormArgs& args, cudaStream_t stream) {
  return with_storage_type(dtype, [&](auto storage) {
    const LayerNormRung* rung = find_rung(kLayerNormLadder<decltype(storage)>, version);
    if (rung == nullptr) return cudaErrorInvalidValue;
    for (const LayerNormKernel& k : rung->backward) {
      const cudaError_t error = launch(k, args, stream);
      if (error != cudaSuccess) return error;
    }
    return cudaSuccess;
  });
}

}  // namespace mt::cuda

// Launchers of the CUDA layer-norm ladder (csrc/kernels/layer_norm_ladder.cuh). No torch headers here: the
// tensor glue is csrc/cuda/layer_norm.cpp. Every kernel runs on the stream it is given (PyTorch's current
// stream).
#include "cuda/layer_norm_launch.h"
#include "cuda/launch.cuh"
#include "kernels/layer_norm_ladder.cuh"

namespace mt::cuda {

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
    return rung == nullptr ? cudaErrorInvalidValue : launch_in_order(rung->backward, args, stream);
  });
}

}  // namespace mt::cuda

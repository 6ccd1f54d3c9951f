// Launchers of the CUDA bias + GELU ladder (csrc/kernels/bias_gelu_ladder.cuh). No torch headers here: the
// tensor glue is csrc/cuda/bias_gelu.cpp. Every kernel runs on the stream it is given (PyTorch's current
// stream).
#include "cuda/bias_gelu_launch.h"
#include "cuda/launch.cuh"
#include "kernels/bias_gelu_ladder.cuh"

namespace mt::cuda {

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
    return rung == nullptr ? cudaErrorInvalidValue : launch_in_order(rung->backward, args, stream);
  });
}

}  // namespace mt::cuda

// Launchers of the CUDA cross-entropy ladder (csrc/kernels/cross_entropy_ladder.cuh). No torch headers here:
// the tensor glue is csrc/cuda/cross_entropy.cpp. Every kernel runs on the stream it is given (PyTorch's
// current stream).
#include "cuda/cross_entropy_launch.h"
#include "cuda/launch.cuh"
#include "kernels/cross_entropy_ladder.cuh"

namespace mt::cuda {

std::vector<int64_t> cross_entropy_versions() { return ladder_versions(kCrossEntropyLadder<float>); }

cudaError_t cross_entropy_forward(int version, StorageDtype dtype, const CrossEntropyArgs& args,
                                  cudaStream_t stream) {
  return with_storage_type(dtype, [&](auto storage) {
    const CrossEntropyRung* rung = find_rung(kCrossEntropyLadder<decltype(storage)>, version);
    return rung == nullptr ? cudaErrorInvalidValue : launch(rung->forward, args, stream);
  });
}

cudaError_t cross_entropy_backward(int version, StorageDtype dtype, const CrossEntropyArgs& args,
                                   cudaStream_t stream) {
  return with_storage_type(dtype, [&](auto storage) {
    const CrossEntropyRung* rung = find_rung(kCrossEntropyLadder<decltype(storage)>, version);
    return rung == nullptr ? cudaErrorInvalidValue : launch(rung->backward, args, stream);
  });
}

}  // namespace mt::cuda

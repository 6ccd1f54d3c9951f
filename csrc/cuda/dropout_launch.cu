// Launcher of the CUDA dropout ladder (csrc/kernels/dropout_ladder.cuh). No torch headers here: the tensor
// glue is csrc/cuda/dropout.cpp. The kernel runs on the stream it is given (PyTorch's current stream).
#include "cuda/dropout_launch.h"
#include "kernels/dropout_ladder.cuh"

namespace mt::cuda {

std::vector<int64_t> dropout_versions() { return ladder_versions(kDropoutLadder<float>); }

cudaError_t dropout_add(int version, StorageDtype dtype, const void* x, const void* residual, void* y, int n,
                        const DropoutParams& params, cudaStream_t stream) {
  return with_storage_type(dtype, [&](auto storage) {
    using T = decltype(storage);
    const DropoutRung<T>* rung = find_rung(kDropoutLadder<T>, version);
    if (rung == nullptr) return cudaErrorInvalidValue;
    const LaunchConfig config = rung->config(n);
    rung->kernel<<<config.grid, config.block, config.shared_bytes, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(residual), static_cast<T*>(y), n, params);
    return cudaGetLastError();
  });
}

}  // namespace mt::cuda

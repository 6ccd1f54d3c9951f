// Launchers of the CUDA softmax ladder (csrc/kernels/softmax_ladder.cuh). No torch headers here (nvcc
// builds in ~30 s instead of minutes): the tensor glue is csrc/cuda/softmax.cpp. Every kernel runs on the
// stream it is given — the caller passes PyTorch's current stream, which keeps CUDA graphs and
// torch.compile correct.
#include "cuda/softmax_launch.h"
#include "kernels/softmax_backward.cuh"
#include "kernels/softmax_ladder.cuh"

namespace mt::cuda {

namespace {
template <typename Kernel, typename... Args>
cudaError_t launch(const LaunchConfig& config, cudaStream_t stream, Kernel kernel, Args... args) {
  kernel<<<config.grid, config.block, config.shared_bytes, stream>>>(args...);
  return cudaGetLastError();
}
}  // namespace

std::vector<int64_t> softmax_versions() { return ladder_versions(kSoftmaxLadder<float>); }

cudaError_t softmax_forward(int version, StorageDtype dtype, const void* x, void* y, int rows, int cols,
                            cudaStream_t stream) {
  return with_storage_type(dtype, [&](auto storage) {
    using T = decltype(storage);
    const SoftmaxRung<T>* rung = find_rung(kSoftmaxLadder<T>, version);
    if (rung == nullptr) return cudaErrorInvalidValue;
    return launch(rung->config(rows, cols), stream, rung->kernel, static_cast<const T*>(x), static_cast<T*>(y),
                  rows, cols);
  });
}

cudaError_t softmax_backward(StorageDtype dtype, const void* y, const void* dy, void* dx, int rows, int cols,
                             cudaStream_t stream) {
  return with_storage_type(dtype, [&](auto storage) {
    using T = decltype(storage);
    return launch(softmax_backward_config(rows, cols), stream, softmax_backward_kernel<T>, static_cast<const T*>(y),
                  static_cast<const T*>(dy), static_cast<T*>(dx), rows, cols);
  });
}

}  // namespace mt::cuda

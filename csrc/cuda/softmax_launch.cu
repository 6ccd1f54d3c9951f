// Launchers of the CUDA softmax ladder. No torch headers here (nvcc builds in ~30 s instead of minutes): the
// tensor glue is csrc/cuda/softmax.cpp. Every kernel runs on the stream it is given — the caller passes
// PyTorch's current stream, which keeps CUDA graphs and torch.compile correct.
#include "cuda/softmax_launch.h"
#include "kernels/softmax_backward.cuh"
#include "kernels/softmax_v1.cuh"
#include "kernels/softmax_v2.cuh"
#include "kernels/softmax_v3.cuh"

namespace mt::cuda {

namespace {
template <typename Kernel, typename... Args>
cudaError_t launch(const LaunchConfig& config, cudaStream_t stream, Kernel kernel, Args... args) {
  kernel<<<config.grid, config.block, config.shared_bytes, stream>>>(args...);
  return cudaGetLastError();
}
}  // namespace

cudaError_t softmax_forward(int version, const float* x, float* y, int rows, int cols,
                            cudaStream_t stream) {
  switch (version) {
    case 1: return launch(softmax_v1_config(rows, cols), stream, softmax_v1_kernel, x, y, rows, cols);
    case 2: return launch(softmax_v2_config(rows, cols), stream, softmax_v2_kernel, x, y, rows, cols);
    case 3: return launch(softmax_v3_config(rows, cols), stream, softmax_v3_kernel, x, y, rows, cols);
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t softmax_backward(const float* y, const float* dy, float* dx, int rows, int cols,
                             cudaStream_t stream) {
  return launch(softmax_backward_config(rows, cols), stream, softmax_backward_kernel, y, dy, dx, rows,
                cols);
}

}  // namespace mt::cuda

// Launching the kernels of a ladder on a stream, the same way for every op (csrc/cuda/<op>_launch.cu). No
// torch headers: the launchers include it.
#pragma once
#include <cuda_runtime.h>

#include "kernels/common.cuh"

namespace mt::cuda {

// One kernel of a ladder (a struct with its `kernel`, nullptr in a rung's unused slots, and the `config`
// function of its launch) run with `args` on `stream`.
template <typename Kernel, typename Args>
cudaError_t launch(const Kernel& k, const Args& args, cudaStream_t stream) {
  if (k.kernel == nullptr) return cudaSuccess;
  const LaunchConfig config = k.config(args);
  k.kernel<<<config.grid, config.block, config.shared_bytes, stream>>>(args);
  return cudaGetLastError();
}

// The kernels in order, stopping at the first error.
template <typename Kernels, typename Args>
cudaError_t launch_in_order(const Kernels& kernels, const Args& args, cudaStream_t stream) {
  for (const auto& k : kernels) {
    const cudaError_t error = launch(k, args, stream);
    if (error != cudaSuccess) return error;
  }
  return cudaSuccess;
}

}  // namespace mt::cuda

// Argument checks and the Philox parameters shared by every dropout implementation (CPU, CUDA, emulated
// CUDA): p in [0, 1], seed and offset >= 0, residual of x's shape and dtype.
#pragma once
#include <ATen/ATen.h>

#include <optional>

#include "kernels/philox.cuh"

namespace mt {

inline DropoutParams make_dropout_params(double p, int64_t seed, int64_t offset, const char* op) {
  TORCH_CHECK(p >= 0.0 && p <= 1.0, op, ": p must be in [0, 1], got ", p);
  TORCH_CHECK(seed >= 0 && offset >= 0, op, ": seed and offset must be >= 0, got ", seed, " and ", offset);
  const uint64_t s = uint64_t(seed), o = uint64_t(offset);
  return {uint64_t((1.0 - p) * 4294967296.0), p == 1.0 ? 0.0 : 1.0 / (1.0 - p), uint32_t(s), uint32_t(s >> 32),
          uint32_t(o), uint32_t(o >> 32)};
}

inline void check_dropout_residual(const at::Tensor& x, const std::optional<at::Tensor>& residual, const char* op) {
  if (residual.has_value())
    TORCH_CHECK(residual->sizes() == x.sizes() && residual->scalar_type() == x.scalar_type() &&
                    residual->device() == x.device(),
                op, ": residual must have x's shape, dtype and device, got ", residual->sizes(), " and ", x.sizes());
}

}  // namespace mt

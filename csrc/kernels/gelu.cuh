// GELU and its derivative in float32 device code (Hendrycks & Gimpel 2016), for the bias + GELU ladder.
//
//   exact ("none"): gelu(z) = z/2 (1 + erf(z / sqrt 2)),   gelu'(z) = Phi(z) + z exp(-z^2/2) / sqrt(2 pi)
//   "tanh":         gelu(z) ~ z/2 (1 + t),  t = tanh(u),  u = sqrt(2/pi) (z + 0.044715 z^3),
//                   gelu'(z) ~ (1 + t)/2 + z/2 (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 z^2)
#pragma once
#include "kernels/common.cuh"

namespace mt {

constexpr float kGeluSqrtHalf = 0.70710678118654752440f, kGeluInvSqrt2Pi = 0.39894228040143267794f;
constexpr float kGeluSqrt2OverPi = 0.79788456080286535588f, kGeluCubic = 0.044715f;

__device__ __forceinline__ float gelu(float z, bool tanh_form) {
  if (tanh_form) return 0.5f * z * (1.f + tanhf(kGeluSqrt2OverPi * (z + kGeluCubic * z * z * z)));
  return 0.5f * z * (1.f + erff(z * kGeluSqrtHalf));
}

__device__ __forceinline__ float gelu_derivative(float z, bool tanh_form) {
  if (tanh_form) {
    const float t = tanhf(kGeluSqrt2OverPi * (z + kGeluCubic * z * z * z));
    return 0.5f * (1.f + t) + 0.5f * z * (1.f - t * t) * kGeluSqrt2OverPi * (1.f + 3.f * kGeluCubic * z * z);
  }
  return 0.5f * (1.f + erff(z * kGeluSqrtHalf)) + z * kGeluInvSqrt2Pi * expf(-0.5f * z * z);
}

}  // namespace mt

// CUDA's 16-bit floating-point storage types, __half (IEEE binary16) and __nv_bfloat16 (bfloat16), with
// the conversions kernels use: __float2half, __half2float, __float2bfloat16, __bfloat162float.
//
// Both are storage types here, as in kernels that compute in float32: no arithmetic operators, only the
// bits and the conversions, which round to nearest, ties to even, as the GPU's cvt.rn instructions do:
//
//   binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits; largest finite 65504, |x| >= 65520 -> inf,
//             below 2^-14 subnormal in steps of 2^-24; unit round-off u = 2^-11 ≈ 4.9e-4
//   bfloat16: the upper 16 bits of a float32 (8 exponent, 7 mantissa bits); float32's range, u = 2^-8
#pragma once
#include <math.h>

#include <bit>
#include <cstdint>

struct __half {
  uint16_t bits;
};

struct __nv_bfloat16 {
  uint16_t bits;
};

inline __half __float2half(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t magnitude = x & 0x7fffffffu;
  if (magnitude > 0x7f800000u) return {static_cast<uint16_t>(sign | 0x7e00u)};  // NaN stays NaN
  if (magnitude >= 0x477ff000u) return {static_cast<uint16_t>(sign | 0x7c00u)};  // >= 65520: inf
  if (magnitude < 0x38800000u) {  // below 2^-14: a multiple of 2^-24 (rint rounds half to even)
    const float scaled = std::bit_cast<float>(magnitude) * 16777216.f;  // exact: a power of two
    return {static_cast<uint16_t>(sign | static_cast<uint16_t>(rintf(scaled)))};
  }
  // Normal: drop 13 mantissa bits, rounding to nearest even (a carry may step into the exponent, which
  // is right), and move the exponent bias from 127 to 15.
  const uint32_t rounded = magnitude + 0xfffu + ((magnitude >> 13) & 1u);
  return {static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13))};
}

inline float __half2float(__half h) {
  const uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000u) << 16;
  const uint32_t exponent = (h.bits >> 10) & 0x1fu, mantissa = h.bits & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float32
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

inline __nv_bfloat16 __float2bfloat16(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return {static_cast<uint16_t>((x >> 16) | 0x40u)};  // quiet NaN
  return {static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16)};
}

inline float __bfloat162float(__nv_bfloat16 b) { return std::bit_cast<float>(static_cast<uint32_t>(b.bits) << 16); }

// Philox4x32-10 over many independent calls at once, one call per SIMD lane: the CPU dropout's generator.
//
// A round maps the counter (c0, c1, c2, c3) under the key (k0, k1) to (kernels/philox.cuh)
//
//   (hi(M1 c2) ^ c1 ^ k0,   lo(M1 c2),   hi(M0 c0) ^ c3 ^ k1,   lo(M0 c0))
//
// where hi and lo are the upper and lower 32 bits of a 32 x 32 -> 64-bit product. x86 has no such multiply
// per 32-bit lane: _mm512_mul_epu32 multiplies the even lanes only, into 64-bit products. So each product
// vector takes two multiplies (the even lanes, and the odd lanes shifted down into even places) and two
// blends that gather the high halves and the low halves. An AVX-512 vector carries 16 calls, an AVX2 one 8;
// the calls left over, and builds with neither, take the plain loop (which the compiler vectorises with
// 64-bit products, about 1.2x slower than the lanes here on 4,096 x 128 masks).
#pragma once
#include <cstdint>

#if defined(CPU_CAPABILITY_AVX512) || defined(CPU_CAPABILITY_AVX2)
#include <immintrin.h>
#endif

#include "kernels/philox.cuh"

namespace mt::cpu {

#if defined(CPU_CAPABILITY_AVX512)
using PhiloxLanes = __m512i;
constexpr int64_t kPhiloxLanes = 16;
inline PhiloxLanes lanes_load(const uint32_t* p) { return _mm512_loadu_si512(p); }
inline void lanes_store(uint32_t* p, PhiloxLanes v) { _mm512_storeu_si512(p, v); }
inline PhiloxLanes lanes_splat(uint32_t x) { return _mm512_set1_epi32(int(x)); }
inline PhiloxLanes xor3(PhiloxLanes a, PhiloxLanes b, PhiloxLanes c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }
// (hi, lo) of m * c per 32-bit lane.
inline void mul_hi_lo(PhiloxLanes c, PhiloxLanes m, PhiloxLanes& hi, PhiloxLanes& lo) {
  const __m512i even = _mm512_mul_epu32(c, m), odd = _mm512_mul_epu32(_mm512_srli_epi64(c, 32), m);
  lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
}
#elif defined(CPU_CAPABILITY_AVX2)
using PhiloxLanes = __m256i;
constexpr int64_t kPhiloxLanes = 8;
inline PhiloxLanes lanes_load(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void lanes_store(uint32_t* p, PhiloxLanes v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
inline PhiloxLanes lanes_splat(uint32_t x) { return _mm256_set1_epi32(int(x)); }
inline PhiloxLanes xor3(PhiloxLanes a, PhiloxLanes b, PhiloxLanes c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
inline void mul_hi_lo(PhiloxLanes c, PhiloxLanes m, PhiloxLanes& hi, PhiloxLanes& lo) {
  const __m256i even = _mm256_mul_epu32(c, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}
#else
constexpr int64_t kPhiloxLanes = 0;  // no SIMD lanes: the plain loop does every call
#endif

// The ten rounds, in place, for calls j < count whose counters are (c0[j], c1[j], c2[j], c3[j]), all under
// the key (seed_lo, seed_hi).
inline void philox_rounds(uint32_t* c0, uint32_t* c1, uint32_t* c2, uint32_t* c3, int64_t count, uint32_t seed_lo,
                          uint32_t seed_hi) {
  int64_t done = 0;
#if defined(CPU_CAPABILITY_AVX512) || defined(CPU_CAPABILITY_AVX2)
  const PhiloxLanes m0 = lanes_splat(kPhiloxM0), m1 = lanes_splat(kPhiloxM1);
  for (; done + kPhiloxLanes <= count; done += kPhiloxLanes) {
    PhiloxLanes x0 = lanes_load(c0 + done), x1 = lanes_load(c1 + done), x2 = lanes_load(c2 + done),
                x3 = lanes_load(c3 + done);
    uint32_t k0 = seed_lo, k1 = seed_hi;
    for (int round = 0; round < kPhiloxRounds; ++round) {
      if (round) {
        k0 += kPhiloxW0;
        k1 += kPhiloxW1;
      }
      PhiloxLanes hi0, lo0, hi1, lo1;
      mul_hi_lo(x0, m0, hi0, lo0);
      mul_hi_lo(x2, m1, hi1, lo1);
      x0 = xor3(hi1, x1, lanes_splat(k0));
      x2 = xor3(hi0, x3, lanes_splat(k1));
      x1 = lo1;
      x3 = lo0;
    }
    lanes_store(c0 + done, x0), lanes_store(c1 + done, x1), lanes_store(c2 + done, x2), lanes_store(c3 + done, x3);
  }
#endif
  uint32_t k0 = seed_lo, k1 = seed_hi;
  for (int round = 0; round < kPhiloxRounds; ++round) {
    if (round) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    for (int64_t j = done; j < count; ++j) philox_round(c0[j], c1[j], c2[j], c3[j], k0, k1);
  }
}

}  // namespace mt::cpu

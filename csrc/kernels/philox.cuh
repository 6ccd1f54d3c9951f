// Philox4x32-10 (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3") and the parameters of
// the counter-based dropout it keys. Host and device code: the CPU dropout kernel (csrc/cpu/dropout.cpp)
// and the CUDA dropout ladder (csrc/kernels/dropout_v*.cuh) draw the same bits from here, and the NumPy
// reference (minitransformer/reference/dropout.py) holds them to its own copy of the rounds.
//
// One call maps a counter (c0, c1, c2, c3) and a key (k0, k1) to four 32-bit words by 10 rounds of
//
//   (c0, c1, c2, c3) <- (hi(M1 c2) ^ c1 ^ k0,  lo(M1 c2),  hi(M0 c0) ^ c3 ^ k1,  lo(M0 c0))
//
// with the key bumped by (W0, W1) between rounds. Element i of a dropout call with (seed, offset) reads
// word i mod 4 of philox(counter = (i/4 low, i/4 high, offset low, offset high), key = (seed low, seed high))
// and is kept when that word is below threshold = floor((1 - p) 2^32).
#pragma once
#include <math.h>

#include <cstdint>

#if defined(__CUDACC__) || defined(MT_EMULATED)
#define MT_HOST_DEVICE __host__ __device__
#else
#define MT_HOST_DEVICE
#endif

namespace mt {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;  // round multipliers
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;  // key schedule (Weyl) increments
constexpr int kPhiloxRounds = 10;

struct PhiloxWords {
  uint32_t w0, w1, w2, w3;
};

// One round, in place, under the round's key (k0, k1).
MT_HOST_DEVICE inline void philox_round(uint32_t& c0, uint32_t& c1, uint32_t& c2, uint32_t& c3, uint32_t k0,
                                        uint32_t k1) {
  const uint64_t p0 = uint64_t(kPhiloxM0) * c0, p1 = uint64_t(kPhiloxM1) * c2;
  const uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0, n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
  c0 = n0;
  c1 = uint32_t(p1);
  c2 = n2;
  c3 = uint32_t(p0);
}

MT_HOST_DEVICE inline PhiloxWords philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                                                uint32_t k1) {
  for (int round = 0; round < kPhiloxRounds; ++round) {
    if (round) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    philox_round(c0, c1, c2, c3, k0, k1);
  }
  return {c0, c1, c2, c3};
}

// Word `lane` (0..3) of a call, by selects rather than an indexed array (which a GPU keeps in local memory).
MT_HOST_DEVICE inline uint32_t philox_word(const PhiloxWords& words, unsigned lane) {
  return lane == 0 ? words.w0 : lane == 1 ? words.w1 : lane == 2 ? words.w2 : words.w3;
}

// What one dropout call is keyed by (built from p, seed and offset by make_dropout_params, dropout_args.h).
struct DropoutParams {
  uint64_t threshold;  // keep when the word is below it: floor((1 - p) 2^32), up to 2^32 (p = 0)
  double scale;        // 1 / (1 - p); 0 when p = 1
  uint32_t seed_lo, seed_hi, offset_lo, offset_hi;
};

// The four words of Philox call `group`, which serve elements 4 group .. 4 group + 3.
MT_HOST_DEVICE inline PhiloxWords dropout_words(const DropoutParams& params, uint64_t group) {
  return philox4x32_10(uint32_t(group), uint32_t(group >> 32), params.offset_lo, params.offset_hi, params.seed_lo,
                       params.seed_hi);
}

// One element of y = residual + x m / (1 - p) from its keep bit m and scale = 1 / (1 - p). With a residual, a
// kept x times scale plus the residual is one rounding (an FMA), written out so that no compiler's choice to
// fuse or not changes the bits, and a dropped x leaves the residual as it is. Every implementation calls
// this, so y is the same bits on the CPU, the emulator and the GPU.
MT_HOST_DEVICE inline float dropout_element(float x, float residual, bool with_residual, bool keep, float scale) {
  if (!with_residual) return keep ? x * scale : 0.f;
  return keep ? fmaf(x, scale, residual) : residual;
}
MT_HOST_DEVICE inline double dropout_element(double x, double residual, bool with_residual, bool keep,
                                             double scale) {
  if (!with_residual) return keep ? x * scale : 0.0;
  return keep ? fma(x, scale, residual) : residual;
}

}  // namespace mt

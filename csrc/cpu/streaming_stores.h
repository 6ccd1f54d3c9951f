// Stores that write around the cache, for the outputs of kernels whose traffic does not fit in it.
//
// An ordinary store first reads the cache line it writes into (read-for-ownership), so a kernel that reads
// two tensors and writes one moves four tensors' worth of bytes through memory, not three. A non-temporal
// ("streaming") store writes whole lines straight to memory and skips that read, at the price of leaving the
// output out of the cache. That price is nothing when the kernel moves more bytes than the last-level cache
// holds: the output's first lines are evicted before the kernel ends, and a reader that starts from the
// front meets misses either way. llm.c's CUDA kernels make the same choice with __stcs.
//
// Measured on our 2-core VM (32 MiB L3), LayerNorm's backward at 4096 x 768 (dy, x and dx: 38 MB):
// 0.78-0.84 of the time with ordinary stores; 0.89 of it for the backward and an add that reads dx after it.
//
// The stores need addresses aligned to the vector width; a row that does not start aligned is written with
// ordinary stores. Without AVX2 or AVX-512 (a generic at::vec build) every store is ordinary.
#pragma once
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <type_traits>

#if defined(CPU_CAPABILITY_AVX512) || defined(CPU_CAPABILITY_AVX2)
#include <immintrin.h>
#endif

namespace mt::cpu {

// "32768K" -> 33554432 (the format of /sys/devices/system/cpu/cpu0/cache/index*/size); 0 if unreadable.
inline int64_t parse_cache_size(const std::string& text) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || value <= 0) return 0;
  const char unit = *end;
  return value * (unit == 'K' ? 1024LL : unit == 'M' ? 1024LL * 1024 : unit == 'G' ? 1024LL * 1024 * 1024 : 1LL);
}

// The size of the last-level cache, read once: MINITRANSFORMER_CACHE_BYTES when it is set (the tests set it
// to reach the streaming path with small tensors), else the largest cache Linux lists for cpu0, else 32 MiB.
inline int64_t last_level_cache_bytes() {
  static const int64_t bytes = [] {
    if (const char* set = std::getenv("MINITRANSFORMER_CACHE_BYTES")) {
      const int64_t given = parse_cache_size(set);
      TORCH_CHECK_VALUE(given > 0, "MINITRANSFORMER_CACHE_BYTES must be a size such as 33554432, 32768K or 32M, got '",
                        set, "'");
      return given;
    }
    int64_t largest = 0;
    for (int index = 0; index < 8; ++index) {
      std::ifstream file("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
      std::string text;
      if (file >> text) largest = std::max(largest, parse_cache_size(text));
    }
    return largest > 0 ? largest : int64_t(32) << 20;
  }();
  return bytes;
}

// Whether a kernel that reads and writes `traffic_bytes` in all should stream its output.
inline bool streams_output(int64_t traffic_bytes) { return traffic_bytes > last_level_cache_bytes(); }

// Whether to stream a row of outputs that starts at `row`: when `streaming` and the row starts aligned to the
// vector width (so that every vector stored at row + k * Vec::size() is aligned too).
template <typename scalar_t>
inline bool stream_row(const scalar_t* row, bool streaming) {
  return streaming && reinterpret_cast<std::uintptr_t>(row) % sizeof(at::vec::Vectorized<scalar_t>) == 0;
}

// v stored at out, streamed when `streaming` (out then aligned: stream_row), else an ordinary store.
template <typename scalar_t>
inline void store(const at::vec::Vectorized<scalar_t>& v, scalar_t* out, bool streaming) {
#if defined(CPU_CAPABILITY_AVX512) || defined(CPU_CAPABILITY_AVX2)
  if (streaming) {
    constexpr bool wide = sizeof(v) == 64;
    if constexpr (std::is_same_v<scalar_t, float>) {
      if constexpr (wide) return _mm512_stream_ps(out, v); else return _mm256_stream_ps(out, v);
    } else if constexpr (std::is_same_v<scalar_t, double>) {
      if constexpr (wide) return _mm512_stream_pd(out, v); else return _mm256_stream_pd(out, v);
    }
  }
#endif
  v.store(out);
}

// at::vec::map3 (out[i] = op(a[i], b[i], c[i])), its vector stores streamed when stream_row(out, streaming).
template <typename scalar_t, typename Op>
void map3(const Op& op, scalar_t* out, const scalar_t* a, const scalar_t* b, const scalar_t* c, int64_t n,
          bool streaming) {
  using Vec = at::vec::Vectorized<scalar_t>;
  if (!stream_row(out, streaming)) return at::vec::map3<scalar_t>(op, out, a, b, c, n);
  int64_t i = 0;
  for (; i + Vec::size() <= n; i += Vec::size())
    store(op(Vec::loadu(a + i), Vec::loadu(b + i), Vec::loadu(c + i)), out + i, true);
  if (i < n) {
    const int64_t left = n - i;
    op(Vec::loadu(a + i, left), Vec::loadu(b + i, left), Vec::loadu(c + i, left)).store(out + i, left);
  }
}

// Streaming stores are weakly ordered: a task that made them calls this before another thread reads them.
inline void finish_streaming() {
#if defined(CPU_CAPABILITY_AVX512) || defined(CPU_CAPABILITY_AVX2)
  _mm_sfence();
#endif
}

}  // namespace mt::cpu

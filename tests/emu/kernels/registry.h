// The test kernels by name, each with its launch configuration (tests only): the broken, check and WMMA
// kernels below, and the rungs of the softmax ladder under their names (softmax_v1, …). Shared by the
// ctypes library the pytest tests load (capi.cpp) and the ThreadSanitizer driver (tests/tsan/driver.cpp).
#pragma once
#define MT_EMULATED 1
#include <cstring>
#include <functional>
#include <optional>

#include "checks.cuh"
#include "kernels/softmax_backward.cuh"
#include "kernels/softmax_ladder.cuh"
#include "softmax_early_return.cuh"
#include "softmax_missing_barrier.cuh"
#include "softmax_wrong_lane.cuh"
#include "wmma.cuh"

namespace mt::test_kernels {

using Kernel = void (*)(const float*, float*, int, int);
using Config = LaunchConfig (*)(int rows, int cols);

struct Entry {
  const char* name;
  Kernel kernel;
  Config config;
};

inline LaunchConfig block_of(int threads, size_t shared) { return {dim3(1), dim3(threads), shared}; }

inline const Entry kEntries[] = {
    {"softmax_missing_barrier", broken::softmax_missing_barrier_kernel,
     broken::softmax_missing_barrier_config},
    {"softmax_early_return", broken::softmax_early_return_kernel, broken::softmax_early_return_config},
    {"softmax_wrong_lane", broken::softmax_wrong_lane_kernel, broken::softmax_wrong_lane_config},
    {"divergent_barrier", checks::divergent_barrier_kernel, [](int, int) { return block_of(64, 0); }},
    {"barrier_after_return", checks::barrier_after_return_kernel, [](int, int) { return block_of(64, 0); }},
    {"absent_lane", checks::absent_lane_kernel, [](int, int) { return block_of(16, 0); }},
    {"read_outside_mask", checks::read_outside_mask_kernel, [](int, int) { return block_of(32, 0); }},
    {"deadlock", checks::deadlock_kernel, [](int, int) { return block_of(64, 0); }},
    {"own_lane_outside_mask", checks::own_lane_outside_mask_kernel, [](int, int) { return block_of(32, 0); }},
    {"bad_width", checks::bad_width_kernel, [](int, int) { return block_of(32, 0); }},
    {"oversized_block", checks::bad_width_kernel, [](int, int) { return block_of(2048, 0); }},
    {"read_unwritten_dynamic", checks::read_unwritten_dynamic_kernel,
     [](int, int) { return block_of(64, 64 * sizeof(float)); }},
    {"read_unwritten_static", checks::read_unwritten_static_kernel, [](int, int) { return block_of(64, 0); }},
    {"intrinsics", checks::intrinsics_kernel, [](int, int cols) { return block_of(cols, 0); }},
    {"round_half", wmma_checks::round_trip_kernel<__half>, [](int, int) { return block_of(32, 0); }},
    {"round_bfloat16", wmma_checks::round_trip_kernel<__nv_bfloat16>, [](int, int) { return block_of(32, 0); }},
#define MT_WMMA_GEMM(name, H, A, B, C) \
  {"wmma_" name, wmma_checks::gemm_kernel<H, nvcuda::wmma::A, nvcuda::wmma::B, C>, wmma_checks::gemm_config}
    MT_WMMA_GEMM("half_row_col_row", __half, row_major, col_major, true),
    MT_WMMA_GEMM("half_col_row_col", __half, col_major, row_major, false),
    MT_WMMA_GEMM("half_row_row_row", __half, row_major, row_major, true),
    MT_WMMA_GEMM("half_col_col_col", __half, col_major, col_major, false),
    MT_WMMA_GEMM("bfloat16_row_col_row", __nv_bfloat16, row_major, col_major, true),
    MT_WMMA_GEMM("bfloat16_col_row_col", __nv_bfloat16, col_major, row_major, false),
#undef MT_WMMA_GEMM
    {"wmma_fragment_map", wmma_checks::fragment_map_kernel, [](int, int) { return block_of(32, 1024); }},
    {"wmma_misaligned_load", wmma_checks::misaligned_load_kernel, [](int, int) { return block_of(32, 1024); }},
    {"wmma_divergent_mma", wmma_checks::divergent_mma_kernel, [](int, int) { return block_of(32, 0); }},
    {"attention_v4", wmma_checks::v4_kernel, wmma_checks::v4_config},
};

inline std::optional<Entry> find(const char* name) {
  for (const Entry& entry : kEntries)
    if (std::strcmp(entry.name, name) == 0) return entry;
  for (const SoftmaxRung<float>& rung : kSoftmaxLadder<float>)
    if (std::strcmp(rung.name, name) == 0) return Entry{rung.name, rung.kernel, rung.config};
  return std::nullopt;
}

// Launch kernel `name` on x -> y; throws emu::Error.
inline void run(const char* name, const emu::Options& options, const float* x, float* y, int rows, int cols) {
  const std::optional<Entry> entry = find(name);
  if (!entry) throw emu::Error(std::string("unknown test kernel ") + name);
  emu::Options named = options;
  named.kernel_name = entry->name;
  const LaunchConfig config = entry->config(rows, cols);
  emu::launch(named, config.grid, config.block, config.shared_bytes, entry->kernel, x, y, rows, cols);
}

}  // namespace mt::test_kernels

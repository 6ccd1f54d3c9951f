// A C interface to the test kernels for ctypes (tests/emu/test_checks.py builds this file with g++
// into a small shared library, with no torch headers so it compiles in seconds).
#include <cstdio>

#include "registry.h"

// Runs test kernel `name`; returns 0, or 1 with the emulator's message in `error`.
extern "C" __attribute__((visibility("default"))) int mt_emu_test_run(const char* name, int order,
                                                                      unsigned long long seed, int threads,
                                                                      const float* x, float* y, int rows,
                                                                      int cols, char* error, int error_bytes) {
  emu::Options options;
  options.order = static_cast<emu::Order>(order);
  options.seed = seed;
  options.scheduler = threads ? emu::SchedulerKind::threads : emu::SchedulerKind::fibers;
  try {
    mt::test_kernels::run(name, options, x, y, rows, cols);
    return 0;
  } catch (const std::exception& e) {
    std::snprintf(error, static_cast<size_t>(error_bytes), "%s", e.what());
    return 1;
  }
}

// ThreadSanitizer driver for the CUDA kernels (make test-tsan). Built with g++ -fsanitize=thread, it
// runs kernels under the emulator's threads scheduler (one OS thread per CUDA thread), so every race on
// shared or global memory between two synchronisation points is a real concurrent access for TSAN.
//
//   driver real     every rung of the softmax ladder (csrc/kernels/softmax_ladder.cuh) and the backward
//                   on small shapes, checked against a double reference: must finish with zero TSAN
//                   reports (exit 0)
//   driver broken   tests/emu/kernels/softmax_missing_barrier.cuh: TSAN must report a data race
//   driver step K   run test kernel K (tests/emu/kernels/registry.h) once on a (2, 64) input with the
//                   fiber scheduler: the entry point for stepping through a kernel in gdb
//                   (docs/emulation.md; build it without -fsanitize=thread, with -O0 -g)
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "registry.h"

namespace {

std::vector<double> reference_softmax(const std::vector<float>& x, int rows, int cols) {
  std::vector<double> y(x.size());
  for (int r = 0; r < rows; ++r) {
    const float* row = &x[static_cast<size_t>(r) * cols];
    double row_max = -INFINITY, sum = 0;
    for (int j = 0; j < cols; ++j) row_max = std::fmax(row_max, row[j]);
    for (int j = 0; j < cols; ++j) sum += std::exp(row[j] - row_max);
    for (int j = 0; j < cols; ++j) y[static_cast<size_t>(r) * cols + j] = std::exp(row[j] - row_max) / sum;
  }
  return y;
}

std::vector<float> inputs(int rows, int cols) {
  std::vector<float> x(static_cast<size_t>(rows) * cols);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 3.f * std::sin(0.731f * static_cast<float>(i) + 0.5f);
  return x;
}

double max_error(const std::vector<float>& out, const std::vector<double>& ref) {
  double error = 0;
  for (size_t i = 0; i < out.size(); ++i) error = std::fmax(error, std::fabs(out[i] - ref[i]));
  return error;
}

emu::Options threads_options() {
  emu::Options options;
  options.scheduler = emu::SchedulerKind::threads;
  return options;
}

int run_real() {
  int failures = 0;
  const int shapes[][2] = {{2, 33}, {3, 100}, {1, 257}};
  for (const mt::SoftmaxRung<float>& rung : mt::kSoftmaxLadder<float>) {
    for (const auto& shape : shapes) {
      const int rows = shape[0], cols = shape[1];
      const std::vector<float> x = inputs(rows, cols);
      std::vector<float> y(x.size());
      mt::test_kernels::run(rung.name, threads_options(), x.data(), y.data(), rows, cols);
      const double error = max_error(y, reference_softmax(x, rows, cols));
      std::printf("%-18s (%d, %3d)  max abs error %.2e\n", rung.name, rows, cols, error);
      failures += error > 1e-5;
    }
  }
  // The backward kernel: dx = y * (dy - sum(y * dy)).
  const int rows = 3, cols = 100;
  const std::vector<double> y64 = reference_softmax(inputs(rows, cols), rows, cols);
  const std::vector<float> y(y64.begin(), y64.end()), dy = inputs(rows, cols);
  std::vector<float> dx(y.size());
  std::vector<double> ref(y.size());
  for (int r = 0; r < rows; ++r) {
    double dot = 0;
    for (int j = 0; j < cols; ++j) dot += double(y[r * cols + j]) * dy[r * cols + j];
    for (int j = 0; j < cols; ++j) ref[r * cols + j] = y[r * cols + j] * (dy[r * cols + j] - dot);
  }
  const mt::LaunchConfig config = mt::softmax_backward_config(rows, cols);
  emu::Options options = threads_options();
  options.kernel_name = "softmax_backward_kernel";
  emu::launch(options, config.grid, config.block, config.shared_bytes, mt::softmax_backward_kernel<float>,
              y.data(), dy.data(), dx.data(), rows, cols);
  const double error = max_error(dx, ref);
  std::printf("%-18s (%d, %3d)  max abs error %.2e\n", "softmax_backward", rows, cols, error);
  failures += error > 1e-5;
  return failures == 0 ? 0 : 1;
}

int run_broken() {
  const int rows = 4, cols = 100;  // each block (row) is one more chance for TSAN to see the race
  const std::vector<float> x = inputs(rows, cols);
  std::vector<float> y(x.size());
  mt::test_kernels::run("softmax_missing_barrier", threads_options(), x.data(), y.data(), rows, cols);
  std::printf("softmax_missing_barrier (%d, %d)  max abs error %.2e\n", rows, cols,
              max_error(y, reference_softmax(x, rows, cols)));
  return 0;
}

int run_step(const char* kernel) {
  const int rows = 2, cols = 64;
  const std::vector<float> x = inputs(rows, cols);
  std::vector<float> y(x.size());
  mt::test_kernels::run(kernel, emu::Options{}, x.data(), y.data(), rows, cols);
  std::printf("%s (%d, %d): y[0] = %g\n", kernel, rows, cols, y[0]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bool step = argc == 3 && std::strcmp(argv[1], "step") == 0;
  if (!step && (argc != 2 || (std::strcmp(argv[1], "real") != 0 && std::strcmp(argv[1], "broken") != 0))) {
    std::fprintf(stderr, "usage: %s real | broken | step KERNEL\n", argv[0]);
    return 2;
  }
  try {
    if (step) return run_step(argv[2]);
    return std::strcmp(argv[1], "real") == 0 ? run_real() : run_broken();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "emulator error: %s\n", e.what());
    return 1;
  }
}

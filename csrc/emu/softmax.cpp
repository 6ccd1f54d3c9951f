// The CUDA softmax ladder (csrc/kernels/softmax_ladder.cuh) and its backward, run on float32, float16 and
// bfloat16 CPU tensors by the emulator: the ops emulated_softmax and emulated_softmax_backward. The
// kernels are the very sources nvcc compiles for the GPU; here g++ compiles them against
// csrc/emu/cuda_emu.h. A template for the glue of any other kernel: checks, the (rows, cols) view, one
// launch per storage type.
#include "emu/launch.h"  // first: it includes the torch headers before the CUDA macros

#include <torch/library.h>

#include "kernel_versions.h"
#include "kernels/softmax_backward.cuh"
#include "kernels/softmax_ladder.cuh"
#include "softmax_args.h"

namespace mt::emulated {

std::vector<int64_t> softmax_versions() { return ladder_versions(kSoftmaxLadder<float>); }

namespace {

at::Tensor softmax(const at::Tensor& x, int64_t dim, int64_t version, c10::string_view order, int64_t seed,
                   c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_softmax";
  dim = checked_softmax_dim(x, dim, op);
  check_storage_cpu(x, op, "x");
  check_kernel_version(softmax_versions(), version, op);
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  const at::Tensor rows_layout = as_rows(x, dim);  // (rows, cols)
  at::Tensor y = at::empty_like(rows_layout);
  if (x.numel() == 0) return from_rows(y, dim);
  const int cols = static_cast<int>(rows_layout.size(-1));
  const int rows = static_cast<int>(rows_layout.numel() / cols);
  with_storage_type(x.scalar_type(), [&](auto storage) {
    using T = decltype(storage);
    const SoftmaxRung<T>& rung = *find_rung(kSoftmaxLadder<T>, version);
    launch(rung.name, options, rung.config(rows, cols), rung.kernel, data_as<T>(rows_layout), mutable_data_as<T>(y),
           rows, cols);
  });
  return from_rows(y, dim);
}

at::Tensor softmax_backward(const at::Tensor& y, const at::Tensor& grad_y, int64_t dim,
                            c10::string_view order, int64_t seed, c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_softmax_backward";
  dim = checked_softmax_dim(y, dim, op);
  check_same_layout(y, grad_y, op, "y", "grad_y");
  check_storage_cpu(y, op, "y");
  const emu::Options options = parse_options(op, std::string(order), seed, std::string(scheduler));
  const at::Tensor y_rows = as_rows(y, dim);       // (rows, cols)
  const at::Tensor dy_rows = as_rows(grad_y, dim);  // (rows, cols)
  at::Tensor dx = at::empty_like(y_rows);
  if (y.numel() == 0) return from_rows(dx, dim);
  const int cols = static_cast<int>(y_rows.size(-1));
  const int rows = static_cast<int>(y_rows.numel() / cols);
  with_storage_type(y.scalar_type(), [&](auto storage) {
    using T = decltype(storage);
    MT_EMU_LAUNCH(options, softmax_backward_config(rows, cols), softmax_backward_kernel<T>, data_as<T>(y_rows),
                  data_as<T>(dy_rows), mutable_data_as<T>(dx), rows, cols);
  });
  return from_rows(dx, dim);
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("emulated_softmax", &softmax);
  m.impl("emulated_softmax_backward", &softmax_backward);
}

}  // namespace mt::emulated

// The CUDA dropout ladder (csrc/kernels/dropout_ladder.cuh) run on float32, float16 and bfloat16 CPU tensors
// by the emulator: the op emulated_dropout_add. Its backward is the same op on grad_y with no residual (the
// mask is recomputed).
#include "emu/launch.h"  // first: it includes the torch headers before the CUDA macros

#include <torch/library.h>

#include "dropout_args.h"
#include "kernel_versions.h"
#include "kernels/dropout_ladder.cuh"

namespace mt::emulated {

std::vector<int64_t> dropout_versions() { return ladder_versions(kDropoutLadder<float>); }

namespace {

at::Tensor dropout_add(const at::Tensor& x_in, const std::optional<at::Tensor>& residual_in, double p, int64_t seed,
                       int64_t offset, int64_t version, c10::string_view order, int64_t order_seed,
                       c10::string_view scheduler) {
  const char* op = "minitransformer::emulated_dropout_add";
  check_storage_cpu(x_in, op, "x");
  check_dropout_residual(x_in, residual_in, op);
  const DropoutParams params = make_dropout_params(p, seed, offset, op);
  check_kernel_version(dropout_versions(), version, op);
  const emu::Options options = parse_options(op, std::string(order), order_seed, std::string(scheduler));
  const at::Tensor x = x_in.contiguous();
  const at::Tensor residual = residual_in.has_value() ? residual_in->contiguous() : at::Tensor();
  at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
  if (x.numel() == 0) return y;
  const int n = static_cast<int>(x.numel());
  with_storage_type(x.scalar_type(), [&](auto storage) {
    using T = decltype(storage);
    const DropoutRung<T>& rung = *find_rung(kDropoutLadder<T>, version);
    launch(rung.name, options, rung.config(n), rung.kernel, data_as<T>(x),
           residual.defined() ? data_as<T>(residual) : nullptr, mutable_data_as<T>(y), n, params);
  });
  return y;
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) { m.impl("emulated_dropout_add", &dropout_add); }

}  // namespace mt::emulated

// Glue between torch ops and the emulator, shared by every csrc/emu/<op>.cpp: the `order`, `seed` and
// `scheduler` arguments, tensor checks, and a launch that turns emu::Error into a Python RuntimeError.
//
// Usage (see softmax.cpp):
//   #include "emu/launch.h"                        // first: torch headers come before the CUDA macros
//   #include "kernels/my_kernel.cuh"
//   const emu::Options options = mt::emulated::parse_options(op, order, seed, scheduler);
//   MT_EMU_LAUNCH(options, my_kernel_config(n), my_kernel, x_ptr, y_ptr, n);
//   launch(rung.name, options, rung.config(n), rung.kernel, x_ptr, y_ptr, n);  // a rung of a ladder
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <limits>
#include <string>

#ifndef MT_EMULATED
#define MT_EMULATED 1
#endif
#include "kernels/common.cuh"

namespace mt::emulated {

inline emu::Options parse_options(const char* op, const std::string& order, int64_t seed,
                                  const std::string& scheduler) {
  emu::Options options;
  if (order == "forward") options.order = emu::Order::forward;
  else if (order == "reverse") options.order = emu::Order::reverse;
  else if (order == "shuffle") options.order = emu::Order::shuffle;
  else TORCH_CHECK(false, op, ": order must be 'forward', 'reverse' or 'shuffle', got '", order, "'");
  if (scheduler == "fibers") options.scheduler = emu::SchedulerKind::fibers;
  else if (scheduler == "threads") options.scheduler = emu::SchedulerKind::threads;
  else TORCH_CHECK(false, op, ": scheduler must be 'fibers' or 'threads', got '", scheduler, "'");
  TORCH_CHECK(options.scheduler == emu::SchedulerKind::fibers || order == "forward", op,
              ": order='", order, "' needs scheduler='fibers' (with threads the OS picks the order)");
  options.seed = static_cast<uint64_t>(seed);
  return options;
}

// What every tensor of an emulated kernel must be, whatever its dtype: on the CPU and indexable in 32 bits;
// `dtype_check(dtype)` checks the dtype in between.
template <typename DtypeCheck>
void check_cpu_tensor(const at::Tensor& t, const char* op, const char* name, DtypeCheck&& dtype_check) {
  TORCH_CHECK(t.device().is_cpu(), op, ": ", name,
              " must be a CPU tensor (the emulator runs on the CPU), got ", t.device());
  dtype_check(t.scalar_type());
  TORCH_CHECK(t.numel() <= std::numeric_limits<int>::max(), op, ": ", name, " has too many elements (",
              t.numel(), ") for 32-bit indexing");
}

// The statistics kept in float32 whatever the storage dtype (layer norm's mean and rstd) are float32 CPU
// tensors.
inline void check_float_cpu(const at::Tensor& t, const char* op, const char* name) {
  check_cpu_tensor(t, op, name, [&](at::ScalarType dtype) {
    TORCH_CHECK(dtype == at::kFloat, op, ": ", name, " must be float32, got ", dtype);
  });
}

// The kernels take CPU tensors of their storage dtypes: float32, float16 and bfloat16.
inline void check_storage_cpu(const at::Tensor& t, const char* op, const char* name) {
  check_cpu_tensor(t, op, name, [&](at::ScalarType dtype) {
    TORCH_CHECK(dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16, op, ": ", name,
                " must be float32, float16 or bfloat16 (the dtypes of the CUDA kernels), got ", dtype);
  });
}

// f(T{}) with T the kernels' storage type for `dtype`: float, or __half and __nv_bfloat16 for float16 and
// bfloat16, whose CPU storage (at::Half, at::BFloat16) is the same 16 bits. Checked by check_storage_cpu.
template <typename F>
decltype(auto) with_storage_type(at::ScalarType dtype, F&& f) {
  switch (dtype) {
    case at::kHalf: return f(__half{});
    case at::kBFloat16: return f(__nv_bfloat16{});
    default: return f(float{});
  }
}

// A tensor's data as storage type T (a reinterpretation of its bits; see with_storage_type).
template <typename T>
const T* data_as(const at::Tensor& t) { return static_cast<const T*>(t.const_data_ptr()); }
template <typename T>
T* mutable_data_as(at::Tensor& t) { return static_cast<T*>(t.mutable_data_ptr()); }

template <typename... Params, typename... Args>
void launch(const char* kernel_name, emu::Options options, const LaunchConfig& config,
            void (*kernel)(Params...), Args... args) {
  options.kernel_name = kernel_name;
  try {
    emu::launch(options, config.grid, config.block, config.shared_bytes, kernel, args...);
  } catch (const emu::Error& error) {
    TORCH_CHECK(false, "emulated CUDA kernel ", error.what());
  }
}

// One kernel of a ladder (a struct with its `name`, its `kernel`, nullptr in a rung's unused slots, and the
// `config` function of its launch) run with `args`.
template <typename Kernel, typename Args>
void launch_kernel(const Kernel& k, const Args& args, const emu::Options& options) {
  if (k.kernel != nullptr) launch(k.name, options, k.config(args), k.kernel, args);
}

}  // namespace mt::emulated

// MT_EMU_LAUNCH(options, config, kernel, args...): kernel<<<config>>>(args...) on the CPU, named in errors.
#define MT_EMU_LAUNCH(options, config, kernel, ...) \
  ::mt::emulated::launch(#kernel, options, config, kernel, __VA_ARGS__)

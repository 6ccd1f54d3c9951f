// emu::launch — run a CUDA kernel on the CPU: kernel<<<grid, block, shared_bytes>>>(args...).
//
// Blocks run one after the other (in blockIdx order), each by the chosen scheduler. Before each block
// the dynamic shared memory and every __shared__ variable are filled with NaN bytes (0xff: NaN as a
// float or double, -1 as an integer), so a kernel that reads shared memory it never wrote gets NaN
// instead of a stale value that happens to be right. Launches are serialised by one mutex: static
// __shared__ variables exist once per process, not once per launch.
#pragma once
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#include "emu/fibers.h"
#include "emu/threads.h"

// Bounds of the section that holds every __shared__ variable (types.h), set by the linker.
extern "C" char __start_mt_emu_shared[] __attribute__((weak, visibility("hidden")));
extern "C" char __stop_mt_emu_shared[] __attribute__((weak, visibility("hidden")));

namespace emu {

enum class SchedulerKind : uint8_t { fibers, threads };

struct Options {
  Order order = Order::forward;                   // fibers: the resume order between sync points
  uint64_t seed = 0;                              // fibers, Order::shuffle: the generator's seed
  SchedulerKind scheduler = SchedulerKind::fibers;
  const char* kernel_name = "kernel";             // for error messages
};

inline std::mutex& launch_mutex() {
  static std::mutex mutex;
  return mutex;
}

inline void poison_static_shared() {
  if (__start_mt_emu_shared != nullptr && __stop_mt_emu_shared != nullptr)
    std::memset(__start_mt_emu_shared, 0xff,
                static_cast<size_t>(__stop_mt_emu_shared - __start_mt_emu_shared));
}

inline void check_launch(dim3 grid, dim3 block, const char* name) {
  std::ostringstream problem;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0)
    problem << "grid (" << grid.x << ", " << grid.y << ", " << grid.z << ") has a zero dimension";
  else if (block.x == 0 || block.y == 0 || block.z == 0)
    problem << "block (" << block.x << ", " << block.y << ", " << block.z << ") has a zero dimension";
  else if (block.volume() > 1024)
    problem << "block has " << block.volume() << " threads; CUDA allows at most 1024";
  if (!problem.str().empty()) throw Error(std::string(name) + ": invalid launch: " + problem.str());
}

// kernel<<<grid, block, shared_bytes>>>(args...) with the given options; throws emu::Error.
template <typename... Params, typename... Args>
void launch(const Options& options, dim3 grid, dim3 block, size_t shared_bytes, void (*kernel)(Params...),
            Args&&... args) {
  check_launch(grid, block, options.kernel_name);
  std::lock_guard guard(launch_mutex());
  std::unique_ptr<Scheduler> scheduler;
  if (options.scheduler == SchedulerKind::threads)
    scheduler = std::make_unique<ThreadScheduler>();
  else
    scheduler = std::make_unique<FiberScheduler>(options.order, options.seed);
  const std::function<void()> body = [&] { kernel(args...); };
  std::vector<unsigned char> dynamic_shared(shared_bytes + 128);
  const size_t misalignment = reinterpret_cast<uintptr_t>(dynamic_shared.data()) % 128;
  unsigned char* shared = dynamic_shared.data() + (128 - misalignment) % 128;  // as kernels/common.cuh declares
  Block state;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        std::memset(shared, 0xff, shared_bytes);
        poison_static_shared();
        state.reset({x, y, z}, block, grid, shared);
        try {
          scheduler->run_block(state, body);
        } catch (const Error& e) {
          std::ostringstream message;
          message << options.kernel_name << ", block (" << x << ", " << y << ", " << z << "): " << e.what();
          throw Error(message.str());
        }
      }
}

template <typename... Params, typename... Args>
void launch(dim3 grid, dim3 block, size_t shared_bytes, void (*kernel)(Params...), Args&&... args) {
  launch(Options{}, grid, block, shared_bytes, kernel, std::forward<Args>(args)...);
}

}  // namespace emu

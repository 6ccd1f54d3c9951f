// What the two schedulers (fibers.h, threads.h) have in common, and the current CUDA thread.
//
// Kernel code reads threadIdx, blockIdx, … through emu::this_thread(): a thread-local pointer to the
// ThreadState of the CUDA thread running now. The fiber scheduler sets it before it resumes a fiber;
// each OS thread of the threads scheduler sets it for itself.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "emu/block.h"

namespace emu {

// In what order the fiber scheduler resumes the threads of a block between synchronisation points.
enum class Order : uint8_t { forward, reverse, shuffle };

// Thrown inside a waiting CUDA thread when its block has failed, to unwind the kernel; never escapes.
struct Abort {};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Run every thread of `block` through `kernel` to completion; throws emu::Error on a broken rule.
  virtual void run_block(Block& block, const std::function<void()>& kernel) = 0;
  // Called by CUDA thread t at a synchronisation point: returns its result once its group is released.
  virtual uint64_t sync(ThreadState& t, const SyncPoint& point) = 0;
};

inline thread_local ThreadState* current_thread = nullptr;

inline ThreadState& this_thread() {
  if (current_thread == nullptr)
    throw Error("a CUDA builtin (threadIdx, __syncthreads, …) was used outside an emulated kernel");
  return *current_thread;
}

}  // namespace emu

// The default scheduler: every CUDA thread of a block is a fiber (context.h), all on the calling OS
// thread, switched only at synchronisation points. Deterministic and cheap (a switch costs nanoseconds,
// where waking an OS thread costs microseconds).
//
// Between two synchronisation points a fiber runs alone, so the interleaving is chosen by the order in
// which runnable fibers are resumed, pass after pass: forward (0, 1, 2, …), reverse, or a shuffle drawn
// anew for every pass from a seeded generator. A missing barrier shows up as a wrong result in *some*
// order: a thread that runs ahead reads a value the others have not written yet (or overwrites one they
// have not read yet). Running several orders is the point; no single order catches every race.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "emu/context.h"
#include "emu/scheduler.h"

namespace emu {

// Fiber stacks, allocated once and reused by every block and launch (launches are serialised). Each has
// a guard page below it, so a stack overflow is a segmentation fault at once, not silent corruption.
class StackPool {
 public:
  static constexpr size_t kStackBytes = 256 * 1024;  // room for kernels with local arrays

  static char* stack(size_t i) {
    static std::vector<char*> stacks;
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    while (stacks.size() <= i) {
      void* region = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
      if (region == MAP_FAILED) throw Error("emulator: cannot allocate a fiber stack");
      mprotect(region, page, PROT_NONE);
      stacks.push_back(static_cast<char*>(region) + page);
    }
    return stacks[i];
  }
};

class FiberScheduler final : public Scheduler {
 public:
  FiberScheduler(Order order, uint64_t seed) : order_(order), seed_(seed) {}

  void run_block(Block& block, const std::function<void()>& kernel) override {
    block_ = &block;
    kernel_ = &kernel;
    aborting_ = false;
    const unsigned n = static_cast<unsigned>(block.threads.size());
    fibers_.assign(n, Fiber{});
    for (unsigned i = 0; i < n; ++i) {
      block.threads[i].scheduler = this;
      fibers_[i].context.start(StackPool::stack(i), StackPool::kStackBytes, &FiberScheduler::entry);
    }
    const dim3 grid = block.grid_dim;
    const uint64_t block_number =
        block.block_idx.x + grid.x * (block.block_idx.y + uint64_t(grid.y) * block.block_idx.z);
    std::mt19937_64 rng(seed_ ^ (0x9E3779B97F4A7C15ull * (1 + block_number)));  // one stream per block
    std::vector<unsigned> sequence(n);
    std::iota(sequence.begin(), sequence.end(), 0u);
    if (order_ == Order::reverse) std::reverse(sequence.begin(), sequence.end());

    while (std::any_of(fibers_.begin(), fibers_.end(), [](const Fiber& f) { return !f.done; })) {
      if (order_ == Order::shuffle) std::shuffle(sequence.begin(), sequence.end(), rng);
      bool progressed = false;
      for (unsigned i : sequence) {
        if (fibers_[i].done || block.threads[i].wait != Wait::running) continue;
        resume(i);
        progressed = true;
        if (!block.error.empty()) break;
      }
      if (!block.error.empty()) abort_block(block.error);
      if (!progressed) abort_block("deadlock: no thread can continue;" + block.describe_waits());
    }
  }

  uint64_t sync(ThreadState& t, const SyncPoint& point) override {
    t.enter(point);
    block_->arrive(t);
    do {
      Context::swap(fibers_[t.id].context, scheduler_context_);
      if (aborting_) throw Abort{};
    } while (t.wait != Wait::running);
    return t.result;
  }

 private:
  struct Fiber {
    Context context;
    bool started = false;
    bool done = false;
  };

  static inline thread_local FiberScheduler* active_ = nullptr;

  Order order_;
  uint64_t seed_;
  Context scheduler_context_;
  std::vector<Fiber> fibers_;
  Block* block_ = nullptr;
  const std::function<void()>* kernel_ = nullptr;
  unsigned running_ = 0;
  bool aborting_ = false;

  // The body of every fiber: run the kernel, arrive as `exited`, switch back for good.
  [[noreturn]] static void entry() {
    FiberScheduler* self = active_;
    ThreadState& t = self->block_->threads[self->running_];
    try {
      (*self->kernel_)();
      t.enter(exit_point());
      self->block_->arrive(t);
    } catch (const Abort&) {
    } catch (const std::exception& e) {
      self->block_->fail(e.what());
    } catch (...) {
      self->block_->fail("the kernel threw an exception that is not a std::exception");
    }
    self->fibers_[t.id].done = true;
    Context::swap(self->fibers_[t.id].context, self->scheduler_context_);
    __builtin_unreachable();  // a finished fiber is never resumed
  }

  void resume(unsigned i) {
    active_ = this;
    running_ = i;
    current_thread = &block_->threads[i];
    fibers_[i].started = true;
    Context::swap(scheduler_context_, fibers_[i].context);
    current_thread = nullptr;
  }

  // Unwind every suspended fiber (each throws Abort from its sync point), then report.
  [[noreturn]] void abort_block(const std::string& message) {
    aborting_ = true;
    for (unsigned i = 0; i < fibers_.size(); ++i) {
      if (!fibers_[i].started) fibers_[i].done = true;
      if (!fibers_[i].done) resume(i);
    }
    throw Error(message);
  }
};

}  // namespace emu

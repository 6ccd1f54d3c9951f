// The ThreadSanitizer scheduler: one std::thread per CUDA thread of a block, reused for every block of
// a launch. The OS decides the interleaving (there is no `order`); ThreadSanitizer sees real concurrent
// accesses to shared and global memory and reports the races between two synchronisation points at
// the kernel's file:line (tests/tsan/).
//
// All synchronisation goes through one mutex per launch, and a waiting thread sleeps on its own
// condition variable until Block::arrive releases it. A side effect worth knowing: every sync point,
// warp collectives included, orders memory for ThreadSanitizer between all the threads that pass
// through the mutex one after the other, so a race between two warps that both execute a shuffle between
// the racing accesses can go unreported. Missing __syncthreads between plain accesses are reported.
#pragma once
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "emu/scheduler.h"

namespace emu {

class ThreadScheduler final : public Scheduler {
 public:
  ThreadScheduler() = default;
  ThreadScheduler(const ThreadScheduler&) = delete;
  ThreadScheduler& operator=(const ThreadScheduler&) = delete;

  ~ThreadScheduler() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    start_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  void run_block(Block& block, const std::function<void()>& kernel) override {
    const unsigned n = static_cast<unsigned>(block.threads.size());
    std::unique_lock lock(mutex_);
    if (wake_.size() < n) {
      if (!workers_.empty())
        throw Error("emulator: the threads scheduler needs the same block size for every block");
      wake_ = std::vector<std::condition_variable>(n);
      for (unsigned i = 0; i < n; ++i) workers_.emplace_back([this, i] { work(i); });
    }
    for (ThreadState& t : block.threads) t.scheduler = this;
    block_ = &block;
    kernel_ = &kernel;
    aborting_ = false;
    finished_ = 0;
    ++generation_;
    start_.notify_all();
    done_.wait(lock, [&] { return finished_ == n || !block.error.empty(); });
    if (block.error.empty()) return;
    aborting_ = true;  // wake every waiting thread: each throws Abort and unwinds its kernel
    for (std::condition_variable& cv : wake_) cv.notify_one();
    done_.wait(lock, [&] { return finished_ == n; });
    throw Error(block.error);
  }

  uint64_t sync(ThreadState& t, const SyncPoint& point) override {
    std::unique_lock lock(mutex_);
    if (aborting_) throw Abort{};
    t.enter(point);
    block_->arrive(t);
    wake_released();
    wake_[t.id].wait(lock, [&] { return t.wait == Wait::running || aborting_; });
    if (aborting_) throw Abort{};
    return t.result;
  }

 private:
  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::vector<std::condition_variable> wake_;  // one per CUDA thread
  std::vector<std::thread> workers_;
  Block* block_ = nullptr;
  const std::function<void()>* kernel_ = nullptr;
  uint64_t generation_ = 0;
  unsigned finished_ = 0;
  bool aborting_ = false, stopping_ = false;

  void wake_released() {
    for (ThreadState* t : block_->released) wake_[t->id].notify_one();
    if (!block_->error.empty()) done_.notify_one();
  }

  static std::string describe(const std::exception_ptr& error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      return e.what();
    } catch (...) {
      return "the kernel threw an exception that is not a std::exception";
    }
  }

  // Worker i plays CUDA thread i of every block.
  void work(unsigned i) {
    uint64_t seen = 0;
    while (true) {
      std::unique_lock lock(mutex_);
      start_.wait(lock, [&] { return generation_ != seen || stopping_; });
      if (stopping_) return;
      seen = generation_;
      ThreadState& t = block_->threads[i];
      const std::function<void()>& kernel = *kernel_;
      lock.unlock();
      current_thread = &t;
      try {
        kernel();
        lock.lock();
        t.enter(exit_point());
        block_->arrive(t);
        wake_released();
      } catch (const Abort&) {
        lock.lock();
      } catch (...) {
        lock.lock();
        block_->fail(describe(std::current_exception()));
        done_.notify_one();
      }
      current_thread = nullptr;
      ++finished_;
      done_.notify_one();
    }
  }
};

}  // namespace emu

// The rules of CUDA's block- and warp-level synchronisation, checked: one emulated thread block.
//
// Every CUDA thread of the block has a ThreadState. A thread that reaches a synchronisation point
// (__syncthreads*, __syncwarp, a shuffle or a vote) fills in what it waits for and calls Block::arrive;
// a thread that returns arrives as `exited`. arrive() releases the groups that are now complete:
//
//   * a warp collective (mask M) completes when every lane named in M waits at the same kind of
//     collective with the same mask; the results (shuffled values, ballots) are computed here, into each
//     lane's own state, so no lane can overwrite a value another lane has yet to read;
//   * __syncthreads completes when every thread of the block waits at it.
//
// Whatever can never complete is an error, reported with the barrier's file:line and the threads:
// threads waiting at different __syncthreads, a barrier reached after some threads returned, a mask
// naming a lane that has exited, does not exist or waits elsewhere (a deadlock), a lane reading a lane
// outside the mask. The scheduler (fibers.h, threads.h) decides who runs; this file is the same for both.
// Not thread-safe: the threads scheduler calls it under its block mutex.
#pragma once
#include <cstdint>
#include <source_location>
#include <stdexcept>
#include <string>
#include <vector>

#include "emu/types.h"

namespace emu {

// An error in the emulated kernel (a broken synchronisation rule, a deadlock): becomes a RuntimeError.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Wait : uint8_t { running, barrier, warp, exited };
enum class BarrierKind : uint8_t { sync, count, all, any };  // __syncthreads, _count, _and, _or
enum class WarpKind : uint8_t { syncwarp, shfl, shfl_up, shfl_down, shfl_xor, ballot, any, all };

const char* name_of(BarrierKind kind);
const char* name_of(WarpKind kind);

class Block;
class Scheduler;

// Where a thread waits and with what arguments: what an intrinsic hands to Scheduler::sync.
struct SyncPoint {
  Wait wait = Wait::running;
  uint8_t kind = 0;      // a BarrierKind or a WarpKind
  std::source_location site;
  unsigned mask = 0;     // warp collectives: the lanes taking part
  uint64_t value = 0;    // shuffles: the bits of `var`; votes and barriers: the predicate
  int lane_arg = 0;      // shuffles: srcLane, delta or laneMask
  int width = 32;
};

// Where a thread that has returned from the kernel "waits".
inline SyncPoint exit_point() {
  SyncPoint point;
  point.wait = Wait::exited;
  return point;
}

struct ThreadState : SyncPoint {
  Block* block = nullptr;
  Scheduler* scheduler = nullptr;
  uint3 thread_idx{};
  unsigned id = 0;       // linear index in the block: x + blockDim.x * (y + blockDim.y * z)
  uint64_t result = 0;   // written when the group is released
  const void* published = nullptr;  // a WMMA operation's operands, read by the other lanes (wmma.h)

  void enter(const SyncPoint& point) { static_cast<SyncPoint&>(*this) = point; }
};

class Block {
 public:
  uint3 block_idx{};
  dim3 block_dim, grid_dim;
  unsigned char* dynamic_shared = nullptr;
  std::vector<ThreadState> threads;
  std::string error;                    // the first broken rule; empty while all is well
  std::vector<ThreadState*> released;   // threads released by the last arrive(): the scheduler wakes them

  void reset(uint3 index, dim3 block, dim3 grid, unsigned char* shared);
  // Thread t has just set t.wait (and its wait fields); release what completes, or record an error.
  void arrive(ThreadState& t);
  std::string describe_waits() const;  // who waits where: for deadlock messages
  void fail(const std::string& message);

 private:
  unsigned at_barrier_ = 0, exited_ = 0;

  void check_warp(unsigned warp);
  void check_barrier();
  void release_warp_group(unsigned base, unsigned lanes, unsigned mask);
  std::string where(const ThreadState& t) const;
};

}  // namespace emu

#include "emu/block_impl.h"

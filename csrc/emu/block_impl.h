// Block::arrive and the checks behind it (declared in block.h).
#pragma once
#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>

namespace emu {

inline const char* name_of(BarrierKind kind) {
  switch (kind) {
    case BarrierKind::sync: return "__syncthreads";
    case BarrierKind::count: return "__syncthreads_count";
    case BarrierKind::all: return "__syncthreads_and";
    case BarrierKind::any: return "__syncthreads_or";
  }
  return "?";
}

inline const char* name_of(WarpKind kind) {
  switch (kind) {
    case WarpKind::syncwarp: return "__syncwarp";
    case WarpKind::shfl: return "__shfl_sync";
    case WarpKind::shfl_up: return "__shfl_up_sync";
    case WarpKind::shfl_down: return "__shfl_down_sync";
    case WarpKind::shfl_xor: return "__shfl_xor_sync";
    case WarpKind::ballot: return "__ballot_sync";
    case WarpKind::any: return "__any_sync";
    case WarpKind::all: return "__all_sync";
  }
  return "?";
}

namespace detail {

// "3, 5..9, 12" for a sorted list of indices.
inline std::string ranges(const std::vector<unsigned>& ids) {
  std::ostringstream out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    out << (i ? ", " : "") << ids[i];
    if (j > i) out << ".." << ids[j];
    i = j + 1;
  }
  return out.str();
}

// "softmax_v2.cuh:27" (the last path component keeps messages short).
inline std::string site(const std::source_location& loc) {
  std::string file = loc.file_name();
  const auto slash = file.find_last_of('/');
  if (slash != std::string::npos) file = file.substr(slash + 1);
  return file + ":" + std::to_string(loc.line());
}

inline std::string hex(unsigned mask) {
  std::ostringstream out;
  out << "0x" << std::hex << mask;
  return out.str();
}

}  // namespace detail

inline void Block::reset(uint3 index, dim3 block, dim3 grid, unsigned char* shared) {
  block_idx = index;
  block_dim = block;
  grid_dim = grid;
  dynamic_shared = shared;
  threads.assign(block.volume(), ThreadState{});
  for (unsigned id = 0; id < threads.size(); ++id) {
    threads[id].block = this;
    threads[id].id = id;
    threads[id].thread_idx = {id % block.x, id / block.x % block.y, id / (block.x * block.y)};
  }
  error.clear();
  released.clear();
  at_barrier_ = exited_ = 0;
}

inline void Block::fail(const std::string& message) {
  if (error.empty()) error = message;
}

// "thread 37 (warp 1, lane 5) waits at __shfl_xor_sync (softmax_v3.cuh:44, in warp_reduce)".
inline std::string Block::where(const ThreadState& t) const {
  std::ostringstream out;
  out << "thread " << t.id << " (warp " << t.id / 32 << ", lane " << t.id % 32 << ")";
  switch (t.wait) {
    case Wait::running: out << " is running"; break;
    case Wait::exited: out << " has returned"; break;
    case Wait::barrier:
      out << " waits at " << name_of(BarrierKind(t.kind)) << " (" << detail::site(t.site) << ")";
      break;
    case Wait::warp:
      out << " waits at " << name_of(WarpKind(t.kind)) << " with mask " << detail::hex(t.mask) << " ("
          << detail::site(t.site) << ", in " << t.site.function_name() << ")";
      break;
  }
  return out.str();
}

inline std::string Block::describe_waits() const {
  std::map<std::string, std::vector<unsigned>> groups;  // same place -> thread ids
  for (const ThreadState& t : threads) {
    std::string place = where(t);
    place = place.substr(place.find(')') + 1);  // drop "thread n (warp w, lane l)"
    groups[place].push_back(t.id);
  }
  std::ostringstream out;
  for (const auto& [place, ids] : groups) out << "\n  threads " << detail::ranges(ids) << ":" << place;
  return out.str();
}

inline void Block::arrive(ThreadState& t) {
  released.clear();
  if (t.wait == Wait::barrier) ++at_barrier_;
  if (t.wait == Wait::exited) ++exited_;
  if (t.wait == Wait::warp) {
    const unsigned lane = t.id % 32;
    if (!(t.mask >> lane & 1u))
      return fail(where(t) + ", but its own lane " + std::to_string(lane) + " is not in the mask");
    if (t.width < 1 || t.width > 32 || (t.width & (t.width - 1)) != 0)
      return fail(where(t) + " with width " + std::to_string(t.width) +
                  ": width must be a power of two in 1..32");
  }
  check_warp(t.id / 32);
  if (error.empty()) check_barrier();
}

// Release every complete group of `warp`; report a group that can never complete.
inline void Block::check_warp(unsigned warp) {
  const unsigned base = warp * 32;
  const unsigned lanes = std::min<unsigned>(32, static_cast<unsigned>(threads.size()) - base);
  unsigned running = 0;  // bit l: lane l is running; a group naming a running lane is not decided yet
  for (unsigned lane = 0; lane < lanes; ++lane)
    if (threads[base + lane].wait == Wait::running) running |= 1u << lane;
  for (unsigned lane = 0; lane < lanes && error.empty(); ++lane) {
    const ThreadState& waiter = threads[base + lane];
    if (waiter.wait != Wait::warp || (waiter.mask & running) != 0) continue;
    // Every lane named in the mask has stopped: the group completes now, or never.
    for (unsigned other = 0; other < 32 && error.empty(); ++other) {
      if (!(waiter.mask >> other & 1u)) continue;
      if (other >= lanes)
        return fail(where(waiter) + ", but lane " + std::to_string(other) +
                    " does not exist (the block has " + std::to_string(threads.size()) + " threads)");
      const ThreadState& peer = threads[base + other];
      if (peer.wait == Wait::exited)
        fail(where(waiter) + ", but lane " + std::to_string(other) + " named in the mask has returned");
      else if (peer.wait == Wait::barrier || peer.kind != waiter.kind || peer.mask != waiter.mask)
        fail("deadlock: " + where(waiter) + ", but " + where(peer));
    }
    if (error.empty()) release_warp_group(base, lanes, waiter.mask);
  }
}

inline void Block::release_warp_group(unsigned base, unsigned lanes, unsigned mask) {
  uint64_t votes = 0;  // bit l: lane l's predicate
  for (unsigned l = 0; l < lanes; ++l)
    if ((mask >> l & 1u) && threads[base + l].value != 0) votes |= 1ull << l;
  for (unsigned lane = 0; lane < lanes; ++lane) {
    if (!(mask >> lane & 1u)) continue;
    ThreadState& t = threads[base + lane];
    const unsigned width = static_cast<unsigned>(t.width);
    const unsigned segment = lane & ~(width - 1);  // first lane of this lane's width-segment
    const unsigned arg = static_cast<unsigned>(t.lane_arg);
    unsigned source = lane;
    switch (WarpKind(t.kind)) {
      case WarpKind::shfl: source = segment + (arg & (width - 1)); break;
      case WarpKind::shfl_up: source = (lane - segment) >= arg ? lane - arg : lane; break;
      case WarpKind::shfl_down: source = (lane - segment) + arg < width ? lane + arg : lane; break;
      case WarpKind::shfl_xor: source = ((lane ^ arg) & ~(width - 1)) == segment ? lane ^ arg : lane; break;
      default: break;
    }
    switch (WarpKind(t.kind)) {
      case WarpKind::syncwarp: break;
      case WarpKind::ballot: t.result = votes; break;
      case WarpKind::any: t.result = votes != 0; break;
      case WarpKind::all: t.result = votes == mask; break;  // every lane of mask exists (checked)
      default:
        if (source >= 32 || !(mask >> source & 1u))
          return fail(where(t) + " and reads lane " + std::to_string(source) +
                      ", which is not in the mask (its value is undefined on a GPU)");
        t.result = threads[base + source].value;
    }
  }
  for (unsigned lane = 0; lane < lanes; ++lane) {
    if (!(mask >> lane & 1u)) continue;
    threads[base + lane].wait = Wait::running;
    released.push_back(&threads[base + lane]);
  }
}

// Release __syncthreads when every thread waits at it; report divergent or incomplete barriers.
inline void Block::check_barrier() {
  if (at_barrier_ == 0 || at_barrier_ + exited_ < threads.size()) return;
  const ThreadState& first = *std::find_if(threads.begin(), threads.end(),
                                           [](const ThreadState& t) { return t.wait == Wait::barrier; });
  const auto same_barrier = [&first](const ThreadState& t) {
    return t.kind == first.kind && t.site.line() == first.site.line() &&
           std::strcmp(t.site.file_name(), first.site.file_name()) == 0;
  };
  uint64_t count = 0;  // threads whose predicate is true
  bool divergent = false;
  for (const ThreadState& t : threads) {
    if (t.wait != Wait::barrier) continue;
    count += t.value != 0;
    divergent = divergent || !same_barrier(t);
  }
  if (exited_ > 0) {
    std::vector<unsigned> returned;
    for (const ThreadState& t : threads)
      if (t.wait == Wait::exited) returned.push_back(t.id);
    return fail(std::string(name_of(BarrierKind(first.kind))) + " at " + detail::site(first.site) +
                " is reached by " + std::to_string(at_barrier_) + " threads after thread(s) " +
                detail::ranges(returned) + " returned: they can never arrive" +
                " (a barrier must be reached by every thread of the block)");
  }
  if (divergent) {
    std::map<std::pair<std::string, uint8_t>, std::vector<unsigned>> sites;  // (file:line, kind) -> threads
    for (const ThreadState& t : threads) sites[{detail::site(t.site), t.kind}].push_back(t.id);
    std::string message = "divergent __syncthreads: the threads of the block wait at different barriers";
    for (const auto& [place, ids] : sites)
      message += "\n  threads " + detail::ranges(ids) + " at " + name_of(BarrierKind(place.second)) +
                 " (" + place.first + ")";
    return fail(message);
  }
  const auto kind = BarrierKind(first.kind);
  const uint64_t n = threads.size();
  const uint64_t result = kind == BarrierKind::count ? count
                          : kind == BarrierKind::all ? uint64_t(count == n)
                                                      : uint64_t(count > 0);
  for (ThreadState& t : threads) {
    t.result = result;
    t.wait = Wait::running;
    released.push_back(&t);
  }
  at_barrier_ = 0;
}

}  // namespace emu

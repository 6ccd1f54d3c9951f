// CUDA's per-thread builtins and synchronisation intrinsics, on top of the current scheduler.
//
// threadIdx, blockIdx, blockDim and gridDim are macros that read the running CUDA thread's state
// (scheduler.h). Every barrier, warp shuffle and vote hands a SyncPoint to the scheduler and returns the
// result Block::arrive computed for this thread. The call site (file:line, via std::source_location)
// travels with it, so an error names the exact barrier. Atomics use std::atomic_ref: they are not
// synchronisation points.
#pragma once
#include <atomic>
#include <cstring>
#include <source_location>
#include <type_traits>

#include "emu/scheduler.h"

#define threadIdx (::emu::this_thread().thread_idx)
#define blockIdx (::emu::this_thread().block->block_idx)
#define blockDim (::emu::this_thread().block->block_dim)
#define gridDim (::emu::this_thread().block->grid_dim)

namespace emu {

using Site = std::source_location;

inline uint64_t sync_point(const SyncPoint& point) {
  ThreadState& t = this_thread();
  return t.scheduler->sync(t, point);
}

inline uint64_t barrier(BarrierKind kind, int predicate, const std::source_location& site) {
  return sync_point({.wait = Wait::barrier, .kind = uint8_t(kind), .site = site,
                     .value = uint64_t(predicate != 0)});
}

template <typename T>
T shuffle(WarpKind kind, unsigned mask, T var, int lane_arg, int width, const std::source_location& site) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "shuffle: T must be a 1-8 byte value");
  uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  bits = sync_point({.wait = Wait::warp, .kind = uint8_t(kind), .site = site, .mask = mask, .value = bits,
                     .lane_arg = lane_arg, .width = width});
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

inline unsigned vote(WarpKind kind, unsigned mask, int predicate, const std::source_location& site) {
  return static_cast<unsigned>(sync_point({.wait = Wait::warp, .kind = uint8_t(kind), .site = site,
                                           .mask = mask, .value = uint64_t(predicate != 0)}));
}

// The current block's dynamic shared memory (the launch's third argument), NaN-filled at block start.
inline unsigned char* dynamic_shared_memory() { return this_thread().block->dynamic_shared; }

}  // namespace emu

inline void __syncthreads(emu::Site site = emu::Site::current()) {
  emu::barrier(emu::BarrierKind::sync, 1, site);
}
inline int __syncthreads_count(int p, emu::Site site = emu::Site::current()) {
  return static_cast<int>(emu::barrier(emu::BarrierKind::count, p, site));
}
inline int __syncthreads_and(int p, emu::Site site = emu::Site::current()) {
  return static_cast<int>(emu::barrier(emu::BarrierKind::all, p, site));
}
inline int __syncthreads_or(int p, emu::Site site = emu::Site::current()) {
  return static_cast<int>(emu::barrier(emu::BarrierKind::any, p, site));
}
inline void __syncwarp(unsigned mask = 0xffffffffu, emu::Site site = emu::Site::current()) {
  emu::vote(emu::WarpKind::syncwarp, mask, 0, site);
}

template <typename T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,
              emu::Site site = emu::Site::current()) {
  return emu::shuffle(emu::WarpKind::shfl, mask, var, src_lane, width, site);
}
template <typename T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                 emu::Site site = emu::Site::current()) {
  return emu::shuffle(emu::WarpKind::shfl_up, mask, var, static_cast<int>(delta), width, site);
}
template <typename T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                   emu::Site site = emu::Site::current()) {
  return emu::shuffle(emu::WarpKind::shfl_down, mask, var, static_cast<int>(delta), width, site);
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                  emu::Site site = emu::Site::current()) {
  return emu::shuffle(emu::WarpKind::shfl_xor, mask, var, lane_mask, width, site);
}

inline unsigned __ballot_sync(unsigned mask, int p, emu::Site site = emu::Site::current()) {
  return emu::vote(emu::WarpKind::ballot, mask, p, site);
}
inline int __any_sync(unsigned mask, int p, emu::Site site = emu::Site::current()) {
  return static_cast<int>(emu::vote(emu::WarpKind::any, mask, p, site));
}
inline int __all_sync(unsigned mask, int p, emu::Site site = emu::Site::current()) {
  return static_cast<int>(emu::vote(emu::WarpKind::all, mask, p, site));
}

inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// --- atomics: each returns the old value, like CUDA's ------------------------------------------------
// T is deduced from the address alone, so atomicAdd(float_ptr, 1) adds 1.f, as CUDA's overloads do.
template <typename T>
T atomicAdd(T* address, std::type_identity_t<T> value) {
  return std::atomic_ref<T>(*address).fetch_add(value);
}
template <typename T>
T atomicSub(T* address, std::type_identity_t<T> value) {
  return std::atomic_ref<T>(*address).fetch_sub(value);
}
template <typename T>
T atomicExch(T* address, std::type_identity_t<T> value) {
  return std::atomic_ref<T>(*address).exchange(value);
}
template <typename T>
T atomicAnd(T* address, std::type_identity_t<T> value) {
  return std::atomic_ref<T>(*address).fetch_and(value);
}
template <typename T>
T atomicOr(T* address, std::type_identity_t<T> value) {
  return std::atomic_ref<T>(*address).fetch_or(value);
}
template <typename T>
T atomicXor(T* address, std::type_identity_t<T> value) {
  return std::atomic_ref<T>(*address).fetch_xor(value);
}
template <typename T>
T atomicCAS(T* address, std::type_identity_t<T> compare, std::type_identity_t<T> value) {
  std::atomic_ref<T>(*address).compare_exchange_strong(compare, value);
  return compare;  // holds the old value either way
}
template <typename T>
T atomicMax(T* address, std::type_identity_t<T> value) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load();
  while (old < value && !ref.compare_exchange_weak(old, value)) {}
  return old;
}
template <typename T>
T atomicMin(T* address, std::type_identity_t<T> value) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load();
  while (value < old && !ref.compare_exchange_weak(old, value)) {}
  return old;
}

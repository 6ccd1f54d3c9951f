// Output tensors backed by transparent huge pages.
//
// A fresh large CPU tensor is paid for in page faults: the kernel maps and zeroes it 4 KiB at a time on
// first touch. glibc recycles freed blocks below its largest mmap threshold (32 MiB on 64-bit), so
// there the faults vanish after the first call; from 32 MiB on, every allocation is a fresh mmap and
// every call pays them: ~30 ms for 64 MiB on our VMs, more than softmax's arithmetic over the same
// bytes. For those sizes we allocate 2 MiB-aligned memory and ask for huge pages
// (madvise(MADV_HUGEPAGE), honoured when /sys/kernel/mm/transparent_hugepage/enabled is "madvise" or
// "always"): 512 times fewer faults, measured here 33 ms -> 6 ms for 64 MiB. Below 32 MiB the usual
// allocator is faster (its recycled memory has no faults at all). PyTorch's allocator does the same
// for every allocation of 2 MiB or more when THP_MEM_ALLOC_ENABLE=1 is set.
#pragma once
#include <ATen/ATen.h>

#include <cstdlib>
#include <new>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace mt::cpu {

constexpr size_t kHugePageBytes = size_t(2) << 20;
constexpr size_t kHugePageThresholdBytes = size_t(32) << 20;  // glibc's largest mmap threshold

// An uninitialised contiguous tensor like empty(sizes, options), on huge pages when it is large.
inline at::Tensor empty_output(at::IntArrayRef sizes, const at::TensorOptions& options) {
  const size_t bytes = static_cast<size_t>(c10::multiply_integers(sizes)) *
                       c10::elementSize(c10::typeMetaToScalarType(options.dtype()));
#ifdef __linux__
  if (bytes >= kHugePageThresholdBytes) {
    const size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void* data = std::aligned_alloc(kHugePageBytes, rounded);
    if (data == nullptr) throw std::bad_alloc();
    madvise(data, rounded, MADV_HUGEPAGE);  // advice only: on failure we simply get small pages
    return at::from_blob(data, sizes, [](void* p) { std::free(p); }, options);
  }
#endif
  return at::empty(sizes, options);
}

}  // namespace mt::cpu

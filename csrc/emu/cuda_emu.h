// The CUDA emulation layer: compile a CUDA kernel with g++ and run it on the CPU.
//
// Included by csrc/kernels/common.cuh when MT_EMULATED is defined, in place of <cuda_runtime.h>. The
// same kernel source then builds with nvcc for the GPU and with g++ here, where
//
//   emu::launch(grid, block, shared_bytes, kernel, args...)          // kernel<<<grid, block, shared>>>
//   emu::launch(options, grid, block, shared_bytes, kernel, args...)  // + order, seed, scheduler
//
// runs every thread of every block, checks the synchronisation rules, and throws emu::Error (a
// std::runtime_error) when a kernel breaks one. How it works and what it cannot model:
// docs/emulation.md.
//
//   types.h       dim3, float4, …, the qualifiers (__global__, __shared__ …) and math intrinsics
//   half.h        __half and __nv_bfloat16 with their conversions (round to nearest even)
//   block.h       one block's threads and the rules of __syncthreads and warp collectives
//   scheduler.h   the current CUDA thread; what both schedulers provide
//   fibers.h      fibers, resumed forward, reverse or shuffled (default); context.h switches them
//   threads.h     one std::thread per CUDA thread (for ThreadSanitizer)
//   intrinsics.h  threadIdx & co., __syncthreads*, __syncwarp, __shfl*_sync, votes, atomics
//   wmma.h        nvcuda::wmma: fragments, load/store/fill, mma_sync as warp-collective operations
//   runtime.h     emu::launch
#pragma once
#ifndef MT_EMULATED
#define MT_EMULATED 1
#endif

#include "emu/types.h"
#include "emu/half.h"
#include "emu/block.h"
#include "emu/scheduler.h"
#include "emu/fibers.h"
#include "emu/threads.h"
#include "emu/intrinsics.h"
#include "emu/wmma.h"
#include "emu/runtime.h"

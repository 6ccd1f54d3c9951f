// The kernel ladders (csrc/kernels/<op>_ladder.cuh) as the torch glue sees them: the check of a requested
// version, shared by the CUDA glue (csrc/cuda/) and the emulator's (csrc/emu/), and the version lists of
// _C that the op kernel_versions (csrc/ops.cpp) reports.
#pragma once
#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace mt {

inline void check_kernel_version(const std::vector<int64_t>& versions, int64_t version, const char* op) {
  TORCH_CHECK(std::find(versions.begin(), versions.end(), version) != versions.end(), op,
              ": version must be one of ", c10::IntArrayRef(versions), ", got ", version);
}

namespace emulated {
// Defined in csrc/emu/<op>.cpp: a kernel header may be compiled into one translation unit of _C only
// (docs/emulation.md), and the emulator's is the one that compiles each ladder.
std::vector<int64_t> softmax_versions();
std::vector<int64_t> attention_versions();
std::vector<int64_t> attention_tensor_core_versions();  // rungs that round their operands to half
std::vector<int64_t> dropout_versions();
std::vector<int64_t> layer_norm_versions();
std::vector<int64_t> bias_gelu_versions();
std::vector<int64_t> cross_entropy_versions();
}  // namespace emulated

}  // namespace mt

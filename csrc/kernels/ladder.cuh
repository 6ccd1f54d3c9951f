// A kernel ladder: the numbered versions ("rungs") of one op's CUDA kernel, each written in
// csrc/kernels/<op>_v<k>.cuh, oldest first; the last is the best, the one the op runs by default.
//
// Each op lists its rungs once, in csrc/kernels/<op>_ladder.cuh: an array of structs, each with its
// `version` and what launching it takes (kernels, launch configurations, scratch memory). The CUDA
// launcher (csrc/cuda/<op>_launch.cu) and the emulator (csrc/emu/<op>.cpp) both find a rung there and
// launch it with their own launch function; the op kernel_versions (csrc/ops.cpp) reports the versions.
// No other file lists the versions or switches over them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mt {

// The rung numbered `version`, or nullptr when the ladder has none.
template <typename Rung, size_t N>
const Rung* find_rung(const Rung (&ladder)[N], int64_t version) {
  for (const Rung& rung : ladder)
    if (rung.version == version) return &rung;
  return nullptr;
}

// The ladder's version numbers, in its order.
template <typename Rung, size_t N>
std::vector<int64_t> ladder_versions(const Rung (&ladder)[N]) {
  std::vector<int64_t> versions;
  for (const Rung& rung : ladder) versions.push_back(rung.version);
  return versions;
}

}  // namespace mt

// CUDA's warp matrix API (nvcuda::wmma, <mma.h>), emulated: D = A·B + C on 16x16x16 tiles by a warp.
//
// A fragment is one lane's share of a 16x16 tile: `x[num_elements]`, as in CUDA's header (16 elements
// for float16 A and B, 8 for bfloat16 A and B and for the float32 accumulator). Which element of the
// tile a lane holds is unspecified by CUDA; here it is the layout the PTX ISA documents for the
// tensor-core instruction mma.m16n8k16, two of which make one 16x16x16 step (g = lane / 4, t = lane % 4, i < 8):
//
//   matrix_a, accumulator   x[i] = M[g + 8·(i/2 % 2)][2t + i%2 + 8·(i/4)]
//   matrix_b                x[i] = B[2t + i%2 + 8·(i/2 % 2)][g + 8·(i/4)]      (row k, column n)
//
// and a 16-element float16 fragment holds those 8 twice (x[i + 8] = x[i]). Kernels must not depend
// on this: they may scale or fill a fragment element-wise, but read results through store_matrix_sync.
//
// Every operation but fill_fragment is warp-collective, as on the GPU: all 32 lanes call it together
// with the same pointer, ldm and layout (else emu::Error). load_matrix_sync reads when the lane arrives
// (a lane that runs ahead of a missing __syncwarp reads stale or NaN data, as on the GPU);
// mma_sync waits for the whole warp, then each lane computes its elements of D from every lane's A and
// B. The inputs are what the fragment holds, already rounded to float16/bfloat16 by the kernel's
// conversion (half.h); the products are exact in float32 and are summed in float32, in k order, onto C.
// The GPU sums in its own order, so results agree to float32 round-off, not bit for bit.
//
// Checked as CUDA requires: pointers 32-byte aligned, ldm a multiple of 16 bytes.
// MT_EMU_WMMA_WRONG_LAYOUT (tests only) makes load and store use the transposed element -> lane mapping
// of the one mma_sync reads: every result is then wrong, and the tests must say so.
#pragma once
#include <cstdint>
#include <string>
#include <type_traits>

#include "emu/half.h"
#include "emu/intrinsics.h"

namespace nvcuda::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int m, int n, int k, typename T, typename Layout = void>
class fragment {
  static_assert(m == 16 && n == 16 && k == 16, "emulated WMMA: only the 16x16x16 shape");
  static_assert(std::is_same_v<Use, accumulator> ? std::is_same_v<T, float>
                                                 : std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>,
                "emulated WMMA: float16 or bfloat16 A and B, float32 accumulator");

 public:
  enum { num_elements = std::is_same_v<T, __half> ? 16 : 8 };
  using element_type = T;
  T x[num_elements];
};

}  // namespace nvcuda::wmma

namespace emu::wmma {

using namespace nvcuda::wmma;

struct Position {
  int row, col;
};

// The element x[i] of `lane` holds (module comment); B's row is k and its column n.
template <typename Use>
constexpr Position position(int lane, int i) {
  const int g = lane / 4, t = lane % 4, i8 = i % 8;
  const int major = 2 * t + i8 % 2 + 8 * (i8 / 2 % 2);  // along k (A, C: along n)
  if constexpr (std::is_same_v<Use, matrix_b>) return {major, g + 8 * (i8 / 4)};
  else return {g + 8 * (i8 / 2 % 2), 2 * t + i8 % 2 + 8 * (i8 / 4)};
}

// Where element (row, col) of the tile lies in memory.
inline size_t offset(Position p, unsigned ldm, bool row_major_memory) {
#ifdef MT_EMU_WMMA_WRONG_LAYOUT
  p = {p.col, p.row};
#endif
  return row_major_memory ? size_t(p.row) * ldm + p.col : size_t(p.col) * ldm + p.row;
}

inline float to_float(float x) { return x; }
inline float to_float(__half x) { return __half2float(x); }
inline float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

// What a lane brings to a collective operation; the other lanes read it while the warp waits.
struct Operands {
  const char* op;
  Site site;
  const void* pointer;  // load/store: the tile; mma: the A fragment
  const void* other;    // mma: the B fragment
  unsigned ldm;
  bool row_major_memory;
};

[[noreturn]] inline void fail(const Operands& o, const std::string& problem) {
  throw Error(std::string("wmma::") + o.op + " (" + detail::site(o.site) + "): " + problem);
}

// One warp-collective step: publish `mine`, wait for the whole warp, run body(operands of lanes 0..31),
// wait again, so that no lane moves on (and overwrites what it published) while another still reads.
template <typename Body>
void collective(const Operands& mine, Body&& body) {
  ThreadState& self = this_thread();
  self.published = &mine;
  __syncwarp(0xffffffffu, mine.site);
  const Operands* lanes[32];
  const unsigned base = self.id / 32 * 32;
  for (unsigned lane = 0; lane < 32; ++lane) {
    lanes[lane] = static_cast<const Operands*>(self.block->threads[base + lane].published);
    if (lanes[lane]->op != mine.op || lanes[lane]->site.line() != mine.site.line())
      fail(mine, "lane " + std::to_string(lane) + " of the warp is at wmma::" + lanes[lane]->op + " (" +
                     detail::site(lanes[lane]->site) + "): a WMMA operation needs the whole warp");
    if (lanes[lane]->pointer != mine.pointer && mine.other == nullptr)
      fail(mine, "lanes " + std::to_string(self.id % 32) + " and " + std::to_string(lane) +
                     " pass different pointers: every lane must pass the same tile");
    if (lanes[lane]->ldm != mine.ldm || lanes[lane]->row_major_memory != mine.row_major_memory)
      fail(mine, "the lanes pass different ldm or layouts");
  }
  body(lanes);
  __syncwarp(0xffffffffu, mine.site);
}

template <typename T>
void check_tile(const Operands& o) {
  if (reinterpret_cast<uintptr_t>(o.pointer) % 32 != 0)
    fail(o, "the pointer must be 32-byte aligned, it is " +
                std::to_string(reinterpret_cast<uintptr_t>(o.pointer) % 32) + " bytes past");
  if (o.ldm * sizeof(T) % 16 != 0 || o.ldm < 16)
    fail(o, "ldm must be at least 16 and a multiple of 16 bytes, got " + std::to_string(o.ldm) + " elements");
}

template <typename Use, typename T, int size>
void load(T (&x)[size], const T* p, unsigned ldm, bool row_major_memory, const Operands& o) {
  check_tile<T>(o);
  const int lane = static_cast<int>(this_thread().id % 32);
  for (int i = 0; i < size; ++i) x[i] = p[offset(position<Use>(lane, i), ldm, row_major_memory)];
  collective(o, [](const Operands* const*) {});
}

}  // namespace emu::wmma

namespace nvcuda::wmma {

template <typename Use, typename T, typename Layout>
void load_matrix_sync(fragment<Use, 16, 16, 16, T, Layout>& f, const T* p, unsigned ldm,
                      emu::Site site = emu::Site::current()) {
  constexpr bool row = std::is_same_v<Layout, row_major>;
  emu::wmma::load<Use>(f.x, p, ldm, row, {"load_matrix_sync", site, p, nullptr, ldm, row});
}

inline void load_matrix_sync(fragment<accumulator, 16, 16, 16, float>& f, const float* p, unsigned ldm,
                             layout_t layout, emu::Site site = emu::Site::current()) {
  const bool row = layout == mem_row_major;
  emu::wmma::load<accumulator>(f.x, p, ldm, row, {"load_matrix_sync", site, p, nullptr, ldm, row});
}

inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f, unsigned ldm,
                              layout_t layout, emu::Site site = emu::Site::current()) {
  const emu::wmma::Operands o{"store_matrix_sync", site, p, nullptr, ldm, layout == mem_row_major};
  emu::wmma::check_tile<float>(o);
  const int lane = static_cast<int>(emu::this_thread().id % 32);
  for (int i = 0; i < 8; ++i)
    p[emu::wmma::offset(emu::wmma::position<accumulator>(lane, i), ldm, o.row_major_memory)] = f.x[i];
  emu::wmma::collective(o, [](const emu::wmma::Operands* const*) {});
}

template <typename Fragment>
void fill_fragment(Fragment& f, const typename Fragment::element_type& value) {
  for (auto& element : f.x) element = value;
}

// d = a·b + c (d may be c). Each lane computes its 8 elements of d from the A and B of every lane.
template <typename T, typename LayoutA, typename LayoutB>
void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const fragment<matrix_a, 16, 16, 16, T, LayoutA>& a,
              const fragment<matrix_b, 16, 16, 16, T, LayoutB>& b,
              const fragment<accumulator, 16, 16, 16, float>& c, emu::Site site = emu::Site::current()) {
  using emu::wmma::position;
  const emu::wmma::Operands mine{"mma_sync", site, &a, &b, 0, true};
  const int lane = static_cast<int>(emu::this_thread().id % 32);
  emu::wmma::collective(mine, [&](const emu::wmma::Operands* const* lanes) {
    float tile_a[16][16], tile_b[16][16];
    for (int l = 0; l < 32; ++l)
      for (int i = 0; i < 8; ++i) {
        const auto* fa = static_cast<const fragment<matrix_a, 16, 16, 16, T, LayoutA>*>(lanes[l]->pointer);
        const auto* fb = static_cast<const fragment<matrix_b, 16, 16, 16, T, LayoutB>*>(lanes[l]->other);
        const emu::wmma::Position pa = position<matrix_a>(l, i), pb = position<matrix_b>(l, i);
        tile_a[pa.row][pa.col] = emu::wmma::to_float(fa->x[i]);
        tile_b[pb.row][pb.col] = emu::wmma::to_float(fb->x[i]);
      }
    for (int i = 0; i < 8; ++i) {
      const emu::wmma::Position p = position<accumulator>(lane, i);
      float sum = c.x[i];
      for (int k = 0; k < 16; ++k) sum += tile_a[p.row][k] * tile_b[k][p.col];
      d.x[i] = sum;
    }
  });
}

}  // namespace nvcuda::wmma

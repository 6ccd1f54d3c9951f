// Kernels for the tests of the emulated WMMA API and half types (tests/emu/test_emu_wmma.py; tests only).
// All take (const float* x, float* y, int rows, int cols) and run as one warp unless said otherwise.
#pragma once
#include "kernels/attention_v4.cuh"

namespace mt::wmma_checks {

using namespace nvcuda;
constexpr int kTile = 16;
constexpr int kLd = 24;        // row stride of the A and B tiles (H): padded, as kernels do
constexpr int kLdFloat = 20;   // row stride of the C and D tiles (float)

// y[i] = float(H(x[i])) for i < cols: the round trip through the 16-bit type.
template <typename H>
__global__ void round_trip_kernel(const float* x, float* y, int, int cols) {
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    H h;
    store(&h, x[i]);
    y[i] = to_float(h);
  }
}

// Element (r, c) of a 16x16 tile at `ld`, in row- or column-major memory.
__device__ inline int at(int r, int c, int ld, bool row_major) { return row_major ? r * ld + c : c * ld + r; }

// y = A·B + C for x = [A | B | C], each 16x16 row-major; A and B rounded to H and stored in the memory
// layouts LayoutA and LayoutB, C and D in row-major memory or not.
template <typename H, typename LayoutA, typename LayoutB, bool kRowMajorC>
__global__ void gemm_kernel(const float* x, float* y, int, int) {
  constexpr bool row_a = std::is_same_v<LayoutA, wmma::row_major>, row_b = std::is_same_v<LayoutB, wmma::row_major>;
  H* a_mem = dynamic_shared<H>();        // (16, kLd)
  H* b_mem = a_mem + kTile * kLd;        // (16, kLd)
  float* c_mem = reinterpret_cast<float*>(b_mem + kTile * kLd);  // (16, kLdFloat)
  float* d_mem = c_mem + kTile * kLdFloat;                        // (16, kLdFloat)
  for (int idx = threadIdx.x; idx < kTile * kTile; idx += blockDim.x) {
    const int r = idx / kTile, c = idx % kTile;
    store(a_mem + at(r, c, kLd, row_a), x[idx]);
    store(b_mem + at(r, c, kLd, row_b), x[kTile * kTile + idx]);
    c_mem[at(r, c, kLdFloat, kRowMajorC)] = x[2 * kTile * kTile + idx];
  }
  __syncwarp();
  const wmma::layout_t layout_c = kRowMajorC ? wmma::mem_row_major : wmma::mem_col_major;
  wmma::fragment<wmma::matrix_a, kTile, kTile, kTile, H, LayoutA> a;
  wmma::fragment<wmma::matrix_b, kTile, kTile, kTile, H, LayoutB> b;
  wmma::fragment<wmma::accumulator, kTile, kTile, kTile, float> c;
  wmma::load_matrix_sync(a, a_mem, kLd);
  wmma::load_matrix_sync(b, b_mem, kLd);
  wmma::load_matrix_sync(c, c_mem, kLdFloat, layout_c);
  wmma::mma_sync(c, a, b, c);
  wmma::store_matrix_sync(d_mem, c, kLdFloat, layout_c);
  __syncwarp();
  for (int idx = threadIdx.x; idx < kTile * kTile; idx += blockDim.x)
    y[idx] = d_mem[at(idx / kTile, idx % kTile, kLdFloat, kRowMajorC)];
}

inline LaunchConfig gemm_config(int, int) {
  return {dim3(1), dim3(kWarpSize), 2 * kTile * (kLd * 2 + kLdFloat * sizeof(float))};
}

// y (16x16, row-major) = where each accumulator element lives: lane * 8 + i for element x[i] of `lane`.
__global__ void fragment_map_kernel(const float*, float* y, int, int) {
  wmma::fragment<wmma::accumulator, kTile, kTile, kTile, float> f;
  for (int i = 0; i < f.num_elements; ++i) f.x[i] = static_cast<float>(threadIdx.x * f.num_elements + i);
  float* tile = dynamic_shared<float>();
  wmma::store_matrix_sync(tile, f, kTile, wmma::mem_row_major);
  __syncwarp();
  for (int idx = threadIdx.x; idx < kTile * kTile; idx += blockDim.x) y[idx] = tile[idx];
}

// Loads a float16 tile from a pointer 8 bytes past a 32-byte boundary.
__global__ void misaligned_load_kernel(const float*, float*, int, int) {
  wmma::fragment<wmma::matrix_a, kTile, kTile, kTile, __half, wmma::row_major> a;
  wmma::load_matrix_sync(a, dynamic_shared<__half>() + 4, kTile);
}

// Only lanes 0..15 reach the mma: a WMMA operation needs the whole warp.
__global__ void divergent_mma_kernel(const float*, float*, int, int) {
  wmma::fragment<wmma::matrix_a, kTile, kTile, kTile, __half, wmma::row_major> a;
  wmma::fragment<wmma::matrix_b, kTile, kTile, kTile, __half, wmma::col_major> b;
  wmma::fragment<wmma::accumulator, kTile, kTile, kTile, float> c;
  wmma::fill_fragment(a, __float2half(1.f));
  wmma::fill_fragment(b, __float2half(1.f));
  wmma::fill_fragment(c, 0.f);
  if (threadIdx.x < 16) wmma::mma_sync(c, a, b, c);
}

// Attention v4 on x = [q | k | v], each (rows, cols) = (N, D) of one head, no mask; y = [out | lse].
inline AttentionArgs attention_args(const float* x, float* y, int rows, int cols) {
  AttentionArgs a{};
  const size_t size = static_cast<size_t>(rows) * cols;
  a.q = x;
  a.k = x + size;
  a.v = x + 2 * size;
  a.out = y;
  a.lse = y + size;
  a.batch = a.heads = 1;
  a.n_q = a.n_k = rows;
  a.dim = cols;
  a.scale = 1.f / sqrtf(static_cast<float>(cols));
  return a;
}

__global__ void v4_kernel(const float* x, float* y, int rows, int cols) {
  mt::attention_v4_kernel<float>(attention_args(x, y, rows, cols));
}

inline LaunchConfig v4_config(int rows, int cols) {
  return mt::attention_v4_config(attention_args(nullptr, nullptr, rows, cols));
}

}  // namespace mt::wmma_checks

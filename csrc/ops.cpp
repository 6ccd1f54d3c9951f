// The one TORCH_LIBRARY block of the project: every op's schema is declared here, once.
// Implementations attach elsewhere with TORCH_LIBRARY_IMPL (csrc/cpu/, csrc/cuda/, csrc/emu/); fake
// (meta) kernels and autograd are registered from Python (minitransformer/ops/), except layer_norm_forward's
// autograd, in C++ (csrc/autograd/layer_norm.cpp: it runs where the Python round trip costs a tenth of the
// kernel). kernel_versions, attention_tensor_core_versions and cpu_cache_bytes take no tensor: their one
// implementation, for every device, is below.
#include <Python.h>
#include <torch/library.h>

#include <string>

#include "cpu/streaming_stores.h"
#include "kernel_versions.h"

// Importing `minitransformer._C` from Python loads this library and runs the registrations below.
extern "C" PyObject* PyInit__C(void) {
  static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module);
}

namespace {

// The ops with a CUDA kernel ladder (csrc/kernels/<op>_ladder.cuh) and its versions.
struct Ladder {
  const char* op;
  std::vector<int64_t> (*versions)();
};
const Ladder kLadders[] = {{"attention", mt::emulated::attention_versions},
                           {"softmax", mt::emulated::softmax_versions},
                           {"dropout", mt::emulated::dropout_versions},
                           {"layer_norm", mt::emulated::layer_norm_versions},
                           {"bias_gelu", mt::emulated::bias_gelu_versions},
                           {"cross_entropy", mt::emulated::cross_entropy_versions}};

std::vector<int64_t> kernel_versions(c10::string_view op) {
  std::string known;
  for (const Ladder& ladder : kLadders) {
    if (op == ladder.op) return ladder.versions();
    known += std::string(known.empty() ? "" : ", ") + ladder.op;
  }
  TORCH_CHECK_VALUE(false, "kernel_versions: unknown op '", op, "'; the ops with a kernel ladder: ", known);
}

}  // namespace

TORCH_LIBRARY(minitransformer, m) {
  // The versions of an op's CUDA kernel ladder, oldest first; the last is the best, the one the op runs on
  // CUDA (attention on float32 skips the tensor-core rungs, listed by the next op).
  m.def("kernel_versions(str op) -> int[]", &kernel_versions);
  // The versions of the attention ladder whose products run on tensor cores: they round q, k, v and P to
  // float16 (bfloat16 for bfloat16 inputs), and the op never picks them for float32 inputs by itself.
  m.def("attention_tensor_core_versions() -> int[]", &mt::emulated::attention_tensor_core_versions);
  // The last-level cache size the CPU kernels assume: a kernel that moves more bytes than this streams its
  // output past the cache (csrc/cpu/streaming_stores.h). MINITRANSFORMER_CACHE_BYTES sets it.
  m.def("cpu_cache_bytes() -> int", [] { return mt::cpu::last_level_cache_bytes(); });
  // Softmax along `dim`. CPU: at::vec kernel; CUDA: the best kernel of the ladder.
  m.def("softmax(Tensor x, int dim) -> Tensor");
  m.def("softmax_backward(Tensor y, Tensor grad_y, int dim) -> Tensor");
  // One rung of the CUDA softmax ladder (csrc/kernels/softmax_ladder.cuh), chosen by number.
  m.def("softmax_kernel(Tensor x, int dim, int version) -> Tensor");
  // The same CUDA kernels run on CPU tensors by the emulator (csrc/emu/): order "forward" |
  // "reverse" | "shuffle" (seeded) is the fibers' resume order; scheduler "fibers" | "threads".
  m.def("emulated_softmax(Tensor x, int dim, int version, str order, int seed, str scheduler) -> Tensor");
  m.def("emulated_softmax_backward(Tensor y, Tensor grad_y, int dim, str order, int seed, str scheduler) "
        "-> Tensor");
  // Fused attention: q (B, H, N_q, D), k and v (B, H, N_k, D), key_padding_mask (B, N_k) bool
  // with True = masked; returns (out, lse). CPU: tiled BLAS + at::vec; CUDA: the best kernel.
  m.def("attention_forward(Tensor q, Tensor k, Tensor v, bool causal, Tensor? key_padding_mask, "
        "float? scale) -> (Tensor, Tensor)");
  m.def("attention_backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor grad_out, "
        "bool causal, Tensor? key_padding_mask, float? scale) -> (Tensor, Tensor, Tensor)");
  // One rung of the CUDA attention ladder (csrc/kernels/attention_ladder.cuh), chosen by number.
  m.def("attention_kernel(Tensor q, Tensor k, Tensor v, bool causal, Tensor? key_padding_mask, "
        "float? scale, int version) -> (Tensor, Tensor)");
  // The attention ladder and its backward kernel run on CPU tensors by the emulator (csrc/emu/); version
  // None runs the best rung for float32.
  m.def("emulated_attention_forward(Tensor q, Tensor k, Tensor v, bool causal, Tensor? key_padding_mask, "
        "float? scale, int? version, str order, int seed, str scheduler) -> (Tensor, Tensor)");
  m.def("emulated_attention_backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, "
        "Tensor grad_out, bool causal, Tensor? key_padding_mask, float? scale, str order, int seed, "
        "str scheduler) -> (Tensor, Tensor, Tensor)");
  // Cross-entropy fused with its log-softmax: logits (rows, classes), targets (rows,) int64; returns the
  // per-row losses (0 where the target is ignore_index) and what the backward reuses: the row max m and
  // l = log sum exp(x - m), so that logsumexp = m + l.
  m.def("cross_entropy_forward(Tensor logits, Tensor targets, int ignore_index, float label_smoothing) "
        "-> (Tensor, Tensor, Tensor)");
  m.def("cross_entropy_backward(Tensor logits, Tensor targets, Tensor row_max, Tensor log_sum, "
        "Tensor grad_losses, int ignore_index, float label_smoothing) -> Tensor");
  // The same gradient written over the logits, for a caller that owns them and needs them no more (a chunk of
  // nn/linear_cross_entropy.py): no second rows x classes buffer.
  m.def("cross_entropy_backward_(Tensor(a!) logits, Tensor targets, Tensor row_max, Tensor log_sum, "
        "Tensor grad_losses, int ignore_index, float label_smoothing) -> ()");
  // A linear layer's output before its bias b (classes,): the losses of logits + b, logits overwritten by the
  // gradient of sum_r grad_losses_r loss_r, and that gradient's sum over rows added to grad_bias (a chunk of
  // nn/linear_cross_entropy.py with a bias).
  m.def("cross_entropy_bias_gradient_(Tensor(a!) logits, Tensor targets, Tensor bias, Tensor grad_losses, "
        "Tensor(b!) grad_bias, int ignore_index) -> Tensor");
  // One rung of the CUDA cross-entropy ladder (csrc/kernels/cross_entropy_ladder.cuh), forward and backward,
  // run on CPU tensors by the emulator.
  m.def("emulated_cross_entropy_forward(Tensor logits, Tensor targets, int ignore_index, float label_smoothing, "
        "int version, str order, int seed, str scheduler) -> (Tensor, Tensor, Tensor)");
  m.def("emulated_cross_entropy_backward(Tensor logits, Tensor targets, Tensor row_max, Tensor log_sum, "
        "Tensor grad_losses, int ignore_index, float label_smoothing, int version, str order, int seed, "
        "str scheduler) -> Tensor");
  // Layer normalisation over the last dimension: returns y and, for the backward, each row's mean and
  // 1/std; the backward returns (dx, dweight, dbias), the parameter sums in a fixed order.
  m.def("layer_norm_forward(Tensor x, Tensor weight, Tensor bias, float eps) -> (Tensor, Tensor, Tensor)");
  m.def("layer_norm_backward(Tensor grad_y, Tensor x, Tensor weight, Tensor mean, Tensor rstd) "
        "-> (Tensor, Tensor, Tensor)");
  // One rung of the CUDA layer-norm ladder (csrc/kernels/layer_norm_ladder.cuh), forward and backward, run on
  // CPU tensors by the emulator.
  m.def("emulated_layer_norm_forward(Tensor x, Tensor weight, Tensor bias, float eps, int version, str order, "
        "int seed, str scheduler) -> (Tensor, Tensor, Tensor)");
  m.def("emulated_layer_norm_backward(Tensor grad_y, Tensor x, Tensor weight, Tensor mean, Tensor rstd, "
        "int version, str order, int seed, str scheduler) -> (Tensor, Tensor, Tensor)");
  // The feed-forward's first bias add and its GELU in one pass: y = gelu(x + bias), approximate "none"
  // (erf) or "tanh"; the backward returns (dx, dbias), dbias summed in a fixed order.
  m.def("bias_gelu_forward(Tensor x, Tensor bias, str approximate) -> Tensor");
  m.def("bias_gelu_backward(Tensor grad_y, Tensor x, Tensor bias, str approximate) -> (Tensor, Tensor)");
  // One rung of the CUDA bias + GELU ladder (csrc/kernels/bias_gelu_ladder.cuh), forward and backward, run
  // on CPU tensors by the emulator.
  m.def("emulated_bias_gelu_forward(Tensor x, Tensor bias, str approximate, int version, str order, int seed, "
        "str scheduler) -> Tensor");
  m.def("emulated_bias_gelu_backward(Tensor grad_y, Tensor x, Tensor bias, str approximate, int version, "
        "str order, int seed, str scheduler) -> (Tensor, Tensor)");
  // Counter-based dropout (Philox4x32-10, the mask a pure function of seed, offset and element index), added
  // to an optional residual: y = residual + x m / (1 - p). The backward recomputes m: dx = dy m / (1 - p).
  m.def("dropout_add_forward(Tensor x, Tensor? residual, float p, int seed, int offset) -> Tensor");
  m.def("dropout_backward(Tensor grad_y, float p, int seed, int offset) -> Tensor");
  m.def("dropout_mask(int[] shape, float p, int seed, int offset) -> Tensor");
  // One rung of the CUDA dropout ladder (csrc/kernels/dropout_ladder.cuh) run on CPU tensors by the emulator;
  // order_seed seeds the "shuffle" order. Its backward is the same op on grad_y with no residual.
  m.def("emulated_dropout_add(Tensor x, Tensor? residual, float p, int seed, int offset, int version, str order, "
        "int order_seed, str scheduler) -> Tensor");
  // word2vec's negative-sampling SGD steps, fused and in place (csrc/cpu/word2vec.cpp): update
  // the rows of both tables that the windows touch; return the batch loss (0-d float64).
  m.def("cbow_sgd_step_(Tensor(a!) input_vectors, Tensor(b!) output_vectors, Tensor contexts, "
        "Tensor context_mask, Tensor targets, Tensor target_mask, float lr) -> Tensor");
  m.def("skipgram_sgd_step_(Tensor(a!) input_vectors, Tensor(b!) output_vectors, Tensor contexts, "
        "Tensor context_mask, Tensor targets, Tensor target_mask, float lr) -> Tensor");
}

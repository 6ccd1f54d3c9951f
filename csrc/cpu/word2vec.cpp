// word2vec's negative-sampling SGD steps (CBOW and skip-gram), fused and in place, the way word2vec.c
// does them (Mikolov et al. 2013): per window, the rows it touches are read once, updated while they sit
// in cache, and written once, instead of being gathered into, computed on and scattered from batch
// tensors. CBOW below; skip-gram's formulas are at skipgram_window.
//
// CBOW: for every window with real context rows v_c (context_mask > 0, n of them) and targets u_j (j = 0 the
// centre word, label 1; the rest negatives, label 0) with weights w_j (target_mask):
//
//   h     = (1/n) sum_c v_c
//   g_j   = w_j (sigmoid(u_j . h) - label_j)         dl/ds_j, every score from the rows as they were
//   err   = sum_j g_j u_j                            dl/dh
//   u_j  -= lr g_j h                                 for every target (after all g_j are known)
//   v_c  -= lr err                                   for every real context slot: the whole dl/dh, as
//                                                    word2vec.c and gensim (cbow_mean=1) do
//
// Inside a window this is exactly CBOW.sgd_step / SkipGram.sgd_step (models/word2vec.py) on a batch of
// that one window.
// Windows are processed one after the other, each seeing the updates of those before it (word2vec.c's
// order), and in parallel over at::parallel_for tasks without locks ("Hogwild!", Recht et al. 2011):
// with more than one thread, two windows that share a row race on it, by design. Returns the batch
// loss -sum_j w_j log p(label_j), a 0-d float64 tensor (monitoring only).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>
#include <torch/library.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

namespace mt::cpu {
namespace {

using at::vec::Vectorized;

// y += a * x over dim entries: whole vectors, then a scalar tail (at::vec::map2's masked tail load and
// store cost more than the arithmetic at word2vec's dims, which are rarely multiples of the width).
template <typename scalar_t>
void add_scaled(scalar_t* y, const scalar_t* x, scalar_t a, int64_t dim) {
  using Vec = Vectorized<scalar_t>;
  const Vec a_vec(a);
  int64_t i = 0;
  for (; i + Vec::size() <= dim; i += Vec::size()) {
    at::vec::fmadd(a_vec, Vec::loadu(x + i), Vec::loadu(y + i)).store(y + i);
  }
  for (; i < dim; ++i) y[i] += a * x[i];
}

template <typename scalar_t>
scalar_t dot(const scalar_t* x, const scalar_t* y, int64_t dim) {
  using Vec = Vectorized<scalar_t>;
  Vec sum(scalar_t(0));
  int64_t i = 0;
  for (; i + Vec::size() <= dim; i += Vec::size()) sum = at::vec::fmadd(Vec::loadu(x + i), Vec::loadu(y + i), sum);
  scalar_t total = at::vec::vec_reduce_all<scalar_t>([](Vec a, Vec b) { return a + b; }, sum);
  for (; i < dim; ++i) total += x[i] * y[i];
  return total;
}

// One window: updates the output rows of its targets and the input rows of its context; returns its loss.
template <typename scalar_t>
double cbow_window(scalar_t* input, scalar_t* output, int64_t dim, const int64_t* contexts,
                   const scalar_t* context_mask, int64_t slots, const int64_t* targets,
                   const scalar_t* target_mask, int64_t num_targets, scalar_t lr, scalar_t* h,
                   scalar_t* err, scalar_t* grad) {
  std::fill(h, h + dim, scalar_t(0));
  std::fill(err, err + dim, scalar_t(0));
  scalar_t count = 0;
  for (int64_t c = 0; c < slots; ++c) {
    if (context_mask[c] > 0) {
      add_scaled(h, input + contexts[c] * dim, scalar_t(1), dim);
      count += context_mask[c];
    }
  }
  const scalar_t scale = scalar_t(1) / std::max(count, scalar_t(1));
  for (int64_t i = 0; i < dim; ++i) h[i] *= scale;

  double loss = 0;
  for (int64_t j = 0; j < num_targets; ++j) {
    const scalar_t* u = output + targets[j] * dim;
    const scalar_t p = scalar_t(1) / (scalar_t(1) + std::exp(-dot(u, h, dim)));
    const scalar_t of_label = j == 0 ? p : scalar_t(1) - p;
    loss -= double(target_mask[j] * std::log(std::max(of_label, scalar_t(1e-30))));
    grad[j] = target_mask[j] * (j == 0 ? p - scalar_t(1) : p);
    add_scaled(err, u, grad[j], dim);
  }
  for (int64_t j = 0; j < num_targets; ++j) add_scaled(output + targets[j] * dim, h, -lr * grad[j], dim);
  for (int64_t c = 0; c < slots; ++c) {
    if (context_mask[c] > 0) add_scaled(input + contexts[c] * dim, err, -lr, dim);
  }
  return loss;
}

// Skip-gram, one window: every real context row v_c scores the same targets u_j, weight m_c w_j.
//   g_cj = m_c w_j (sigmoid(u_j . v_c) - label_j),  u_j -= lr sum_c g_cj v_c,  v_c -= lr sum_j g_cj u_j
// all from the rows as they were before this window (SkipGram.sgd_step on this one window).
template <typename scalar_t>
double skipgram_window(scalar_t* input, scalar_t* output, int64_t dim, const int64_t* contexts,
                       const scalar_t* context_mask, int64_t slots, const int64_t* targets,
                       const scalar_t* target_mask, int64_t num_targets, scalar_t lr, scalar_t* err,
                       scalar_t* grad) {
  double loss = 0;
  std::fill(err, err + slots * dim, scalar_t(0));
  for (int64_t c = 0; c < slots; ++c) {
    if (!(context_mask[c] > 0)) continue;
    const scalar_t* v = input + contexts[c] * dim;
    for (int64_t j = 0; j < num_targets; ++j) {
      const scalar_t* u = output + targets[j] * dim;
      const scalar_t p = scalar_t(1) / (scalar_t(1) + std::exp(-dot(v, u, dim)));
      const scalar_t weight = context_mask[c] * target_mask[j];
      loss -= double(weight) * std::log(std::max(double(j == 0 ? p : scalar_t(1) - p), 1e-30));
      grad[c * num_targets + j] = weight * (j == 0 ? p - scalar_t(1) : p);
      add_scaled(err + c * dim, u, grad[c * num_targets + j], dim);
    }
  }
  for (int64_t j = 0; j < num_targets; ++j) {
    for (int64_t c = 0; c < slots; ++c) {
      if (context_mask[c] > 0) {
        add_scaled(output + targets[j] * dim, input + contexts[c] * dim, -lr * grad[c * num_targets + j], dim);
      }
    }
  }
  for (int64_t c = 0; c < slots; ++c) {
    if (context_mask[c] > 0) add_scaled(input + contexts[c] * dim, err + c * dim, -lr, dim);
  }
  return loss;
}

void check_args(const char* op, const at::Tensor& input_vectors, const at::Tensor& output_vectors,
                const at::Tensor& contexts, const at::Tensor& context_mask, const at::Tensor& targets,
                const at::Tensor& target_mask) {
  const std::pair<const at::Tensor*, const char*> all[] = {
      {&input_vectors, "input_vectors"}, {&output_vectors, "output_vectors"}, {&contexts, "contexts"},
      {&context_mask, "context_mask"},   {&targets, "targets"},               {&target_mask, "target_mask"}};
  for (const auto& [tensor, name] : all) {
    TORCH_CHECK(tensor->device().is_cpu(), op, ": ", name, " must be a CPU tensor, got ", tensor->device());
    TORCH_CHECK(tensor->dim() == 2, op, ": ", name, " must be 2-D, got ", tensor->dim(), " dimension(s)");
    TORCH_CHECK(tensor->is_contiguous(), op, ": ", name, " must be contiguous");
  }
  TORCH_CHECK(input_vectors.scalar_type() == at::kFloat || input_vectors.scalar_type() == at::kDouble, op,
              ": input_vectors must be float32 or float64, got ", input_vectors.scalar_type());
  for (const auto& [tensor, name] : {all[1], all[3], all[5]}) {
    TORCH_CHECK(tensor->scalar_type() == input_vectors.scalar_type(), op, ": ", name,
                " must have input_vectors' dtype ", input_vectors.scalar_type(), ", got ",
                tensor->scalar_type());
  }
  for (const auto& [tensor, name] : {all[2], all[4]}) {
    TORCH_CHECK(tensor->scalar_type() == at::kLong, op, ": ", name, " must be int64, got ",
                tensor->scalar_type());
  }
  TORCH_CHECK(output_vectors.sizes() == input_vectors.sizes(), op,
              ": output_vectors must have input_vectors' shape ", input_vectors.sizes(), ", got ",
              output_vectors.sizes());
  TORCH_CHECK(context_mask.sizes() == contexts.sizes(), op, ": context_mask must have contexts' shape ",
              contexts.sizes(), ", got ", context_mask.sizes());
  TORCH_CHECK(target_mask.sizes() == targets.sizes(), op, ": target_mask must have targets' shape ",
              targets.sizes(), ", got ", target_mask.sizes());
  TORCH_CHECK(targets.size(0) == contexts.size(0), op,
              ": contexts and targets must have one row per window, got ", contexts.size(0), " and ",
              targets.size(0));
  TORCH_CHECK(targets.size(1) >= 1, op, ": targets must hold the centre word in column 0, got 0 columns");
  const int64_t vocab = input_vectors.size(0);
  for (const auto& [tensor, name] : {all[2], all[4]}) {  // one pass over the ids, before any update
    const int64_t* ids = tensor->const_data_ptr<int64_t>();
    for (int64_t i = 0; i < tensor->numel(); ++i) {
      TORCH_CHECK(ids[i] >= 0 && ids[i] < vocab, op, ": ", name, " must hold word ids in [0, ", vocab,
                  "), got ", ids[i]);
    }
  }
}

// Runs `window_step(w, scratch)` on every window w, in parallel tasks of consecutive windows; returns
// the summed loss as a 0-d float64 tensor.
template <typename scalar_t, typename WindowStep>
at::Tensor run_windows(int64_t windows, int64_t scratch_size, const WindowStep& window_step) {
  std::atomic<double> total_loss{0.0};
  at::parallel_for(0, windows, 16, [&](int64_t begin, int64_t end) {
    std::vector<scalar_t> scratch(scratch_size);  // per task, stays in cache
    double loss = 0;
    for (int64_t w = begin; w < end; ++w) loss += window_step(w, scratch.data());
    double seen = total_loss.load();
    while (!total_loss.compare_exchange_weak(seen, seen + loss)) {
    }
  });
  return at::scalar_tensor(total_loss.load(), at::TensorOptions().dtype(at::kDouble));
}

template <bool kCbow>
at::Tensor sgd_step_(const at::Tensor& input_vectors, const at::Tensor& output_vectors,
                     const at::Tensor& contexts, const at::Tensor& context_mask, const at::Tensor& targets,
                     const at::Tensor& target_mask, double lr) {
  const char* op = kCbow ? "minitransformer::cbow_sgd_step_" : "minitransformer::skipgram_sgd_step_";
  check_args(op, input_vectors, output_vectors, contexts, context_mask, targets, target_mask);
  const int64_t slots = contexts.size(1), num_targets = targets.size(1), dim = input_vectors.size(1);
  at::Tensor loss;
  AT_DISPATCH_FLOATING_TYPES(input_vectors.scalar_type(), "minitransformer::sgd_step_", [&] {
    scalar_t* input = input_vectors.mutable_data_ptr<scalar_t>();
    scalar_t* output = output_vectors.mutable_data_ptr<scalar_t>();
    const int64_t* context_ids = contexts.const_data_ptr<int64_t>();
    const int64_t* target_ids = targets.const_data_ptr<int64_t>();
    const scalar_t* context_weights = context_mask.const_data_ptr<scalar_t>();
    const scalar_t* target_weights = target_mask.const_data_ptr<scalar_t>();
    const scalar_t step = static_cast<scalar_t>(lr);
    const int64_t scratch_size = kCbow ? 2 * dim + num_targets : slots * (dim + num_targets);
    loss = run_windows<scalar_t>(contexts.size(0), scratch_size, [&](int64_t w, scalar_t* scratch) {
      const int64_t* c = context_ids + w * slots;
      const int64_t* t = target_ids + w * num_targets;
      const scalar_t* cw = context_weights + w * slots;
      const scalar_t* tw = target_weights + w * num_targets;
      if constexpr (kCbow) {
        return cbow_window(input, output, dim, c, cw, slots, t, tw, num_targets, step, scratch, scratch + dim,
                           scratch + 2 * dim);
      } else {
        return skipgram_window(input, output, dim, c, cw, slots, t, tw, num_targets, step, scratch,
                               scratch + slots * dim);
      }
    });
  });
  return loss;
}

}  // namespace

TORCH_LIBRARY_IMPL(minitransformer, CPU, m) {
  m.impl("cbow_sgd_step_", &sgd_step_<true>);
  m.impl("skipgram_sgd_step_", &sgd_step_<false>);
}

}  // namespace mt::cpu

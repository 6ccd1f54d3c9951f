"""word2vec's negative-sampling SGD steps as fused, in-place CPU ops (csrc/cpu/word2vec.cpp).

Per window, with weights w_j from ``target_mask``, labels y = 1 for the centre word and 0 for the
negatives, and m_c from ``context_mask``:

    CBOW, h = mean of the context rows v_c,  g_j = w_j (σ(u_j·h) - y_j):
        u_j -= lr g_j h          v_c -= lr Σ_j g_j u_j     (the whole dl/dh to every context row)
    skip-gram, g_cj = m_c w_j (σ(u_j·v_c) - y_j):
        u_j -= lr Σ_c g_cj v_c   v_c -= lr Σ_j g_cj u_j

which is ``CBOW.sgd_step`` / ``SkipGram.sgd_step`` (models/word2vec.py) applied to one window at a
time, in order, as word2vec.c does (Mikolov et al. 2013). The ops walk the windows in parallel
without locks (Hogwild!, Recht et al. 2011), so with several intra-op threads the result depends on
the schedule; with one thread it is deterministic. They exist for speed: each touched row is read and
written once per window while in cache, instead of being gathered into and scattered from batch
tensors.
"""

import torch

from minitransformer.ops import _extension  # noqa: F401  (registers torch.ops.minitransformer)

OPS = ("minitransformer::cbow_sgd_step_", "minitransformer::skipgram_sgd_step_")


def _check_fake_args(op, input_vectors, output_vectors, contexts, context_mask, targets, target_mask):
    if input_vectors.dim() != 2 or output_vectors.shape != input_vectors.shape:
        raise RuntimeError(f"{op}: input_vectors and output_vectors must be 2-D of the same shape, got "
                           f"{tuple(input_vectors.shape)} and {tuple(output_vectors.shape)}")
    if contexts.dim() != 2 or context_mask.shape != contexts.shape:
        raise RuntimeError(f"{op}: contexts and context_mask must be 2-D of the same shape, got "
                           f"{tuple(contexts.shape)} and {tuple(context_mask.shape)}")
    if targets.dim() != 2 or target_mask.shape != targets.shape or targets.shape[0] != contexts.shape[0]:
        raise RuntimeError(f"{op}: targets and target_mask must be (C, K+1) with C = contexts' rows, got "
                           f"{tuple(targets.shape)} and {tuple(target_mask.shape)}")


def _register_fake(op):
    """Shapes only: the op returns the batch loss, a 0-d float64 tensor, and mutates its two tables."""
    def fake(input_vectors, output_vectors, contexts, context_mask, targets, target_mask, lr):
        _check_fake_args(op, input_vectors, output_vectors, contexts, context_mask, targets, target_mask)
        return input_vectors.new_empty((), dtype=torch.float64)
    torch.library.register_fake(op, fake)


for _op in OPS:
    _register_fake(_op)


def _fused_step(op, model, batch, lr):
    """One fused SGD step of ``model`` on a ``WindowBatch``; returns the batch loss (a float).

    The batch's masks are cast to the tables' dtype if needed (the data pipeline makes them float32).
    """
    tables = model.input_vectors.detach(), model.output_vectors.detach()
    dtype = tables[0].dtype
    loss = op(*tables, batch.contexts.contiguous(), batch.context_mask.to(dtype).contiguous(),
              batch.targets.contiguous(), batch.target_mask.to(dtype).contiguous(), float(lr))
    return float(loss)


def cbow_sgd_step(model, batch, lr):
    """word2vec.c's CBOW step on a ``CBOW`` model, fused; returns the batch loss."""
    return _fused_step(torch.ops.minitransformer.cbow_sgd_step_, model, batch, lr)


def skipgram_sgd_step(model, batch, lr):
    """word2vec.c's skip-gram step on a ``SkipGram`` model (a window's negatives serve all its context
    words, as in SkipGram.sgd_step), fused; returns the batch loss."""
    return _fused_step(torch.ops.minitransformer.skipgram_sgd_step_, model, batch, lr)

"""Dynamic context windows for word2vec, one epoch at a time, as batches of whole windows.

For every centre token the effective window b is drawn uniformly from 1..window (word2vec.c's
"reduced window"; Mikolov et al. 2013a, section 3.2: nearer words are sampled more often as context).
The context of the centre at position i is every token at i-b..i+b other than i that lies in the same
sentence; sub-sampled tokens are removed first, so windows close over the gaps they leave.

A batch holds C windows, padded to M <= 2 * window context slots:

    contexts        (C, M) int64   context word ids (0 where padded)
    context_mask    (C, M) float   1 for a real context word, 0 for padding
    targets         (C, K+1) int64 the centre word, then K negative samples
    target_mask     (C, K+1) float weights: 1, except 0 for a negative that equals the centre
                                   word (word2vec.c skips those)

Skip-gram scores each context word against the targets; CBOW scores their mean. Sharing the K
negatives across the context words of one window (Ji et al. 2016, "Parallelizing Word2Vec in Shared and
Distributed Memory") turns per-pair dot products into one small matrix product per window.

With ``shared_negatives=S`` all windows of a batch share one draw of S negatives instead, each weighted
K/S: Σ_k log σ(-u_nk·h) over K fresh draws and (K/S) Σ_s log σ(-u_ns·h) over S shared ones have the
same expectation, and the shared form is one (C, D)x(D, S) matrix product with S output rows to
update instead of C·K (a fast path exists for CBOW). It departs from word2vec.c, so it is off by
default.
"""

from typing import NamedTuple, Optional

import torch

from minitransformer.data.word2vec.negatives import NegativeSampler


class WindowBatch(NamedTuple):
    contexts: torch.Tensor      # (C, M) int64
    context_mask: torch.Tensor  # (C, M) float32
    targets: torch.Tensor       # (C, K+1) int64 (with shared negatives: (C, S+1), an expanded view)
    target_mask: torch.Tensor   # (C, K+1) float32 weights
    shared_negatives: Optional[torch.Tensor] = None  # (S,) int64 when the batch shares its negatives


class EpochWindows(NamedTuple):
    centers: torch.Tensor       # (C,) int64 centre word ids, in text order
    contexts: torch.Tensor      # (C, M) int64
    context_mask: torch.Tensor  # (C, M) bool
    reach: torch.Tensor         # (C,) int64 the effective window b drawn for each centre
    source_tokens: int          # tokens of the corpus this epoch covers, before sub-sampling


def epoch_windows(ids, sentence_of, keep_probability, window, generator=None):
    """Sub-sample the corpus once and form every centre's dynamic window (centres with no context dropped).

    ids, sentence_of: (T,) int64 word ids and sentence index per token; keep_probability: (V,) float.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    ids, sentence_of = torch.as_tensor(ids), torch.as_tensor(sentence_of)
    keep_probability = torch.as_tensor(keep_probability, dtype=torch.float64)
    kept = torch.rand(ids.shape, generator=generator, dtype=torch.float64) < keep_probability[ids]
    ids, sentence_of = ids[kept], sentence_of[kept]  # (T',)
    n = ids.numel()
    reach = torch.randint(1, window + 1, (n,), generator=generator)  # (T',) effective window b
    position = torch.arange(n)
    starts = torch.ones(n, dtype=torch.bool)  # (T',) first token of its sentence
    starts[1:] = sentence_of[1:] != sentence_of[:-1]
    ends = torch.ones(n, dtype=torch.bool)  # (T',) last token of its sentence
    ends[:-1] = starts[1:]
    first = torch.where(starts, position, 0).cummax(0).values  # (T',) position of the sentence's first token
    last = torch.where(ends, position, n).flip(0).cummin(0).values.flip(0)  # and of its last token
    before = torch.minimum(position - first, reach)  # (T',) context words to the left, within b and the sentence
    after = torch.minimum(last - position, reach)  # and to the right
    rows = (before + after > 0).nonzero().squeeze(1)  # centres with a context
    offsets = torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)])  # (M,)
    mask = (offsets >= -before[rows].unsqueeze(1)) & (offsets <= after[rows].unsqueeze(1))  # (C, M)
    padded = torch.nn.functional.pad(ids, (window, window + 1))  # + 1: unfold needs one span even when n = 0
    spans = padded.unfold(0, 2 * window + 1, 1).index_select(0, rows)  # (C, 2 * window + 1): ids at i-window..i+window
    contexts = torch.cat([spans[:, :window], spans[:, window + 1:]], dim=1).masked_fill_(~mask, 0)  # drop the centre
    return EpochWindows(ids[rows], contexts, mask, reach[rows], len(kept))


def batch_order(windows, batch_size, group=16):
    """Row indices of the windows in training order: text order, cut into runs of ``group`` batches,
    each run sorted by reach b (stably), so that most batches hold a single b and can drop the padding
    columns (M = 2 * max b instead of 2 * window: about 40 % less work at window 5 for the PyTorch
    steps). Which windows share a batch changes, not which windows are trained.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    run = torch.arange(len(windows.centers)) // (batch_size * group)  # (C,)
    window = windows.contexts.shape[1] // 2
    return torch.argsort(run * (window + 1) + windows.reach, stable=True)  # by run, then by reach


def window_batches(windows, order, sampler: NegativeSampler, negative, batch_size, generator=None,
                   shared_negatives=0, trim=True, gather=16):
    """Yield ``WindowBatch``es of ``batch_size`` consecutive windows of ``order``, with fresh negatives
    for each window, or with ``shared_negatives`` > 0 one draw of that many for the whole batch.

    Windows are gathered ``gather`` batches at a time (small enough to stay in cache, large enough that
    Python's per-call cost is spread) and every batch is a slice of them. Fresh negatives are drawn for those
    windows in one call: torch's CPU ``randint`` draws element after element, so these are the numbers that
    one draw per batch, batch after batch, gave. ``trim`` drops the padding columns beyond the batch's
    largest reach (worth it for the PyTorch steps, which compute on every slot); without it every batch is
    a contiguous view (the fused steps skip padding slots themselves).
    """
    if negative < 1:
        raise ValueError(f"negative must be >= 1, got {negative}")
    if shared_negatives < 0:
        raise ValueError(f"shared_negatives must be >= 0, got {shared_negatives}")
    window = windows.contexts.shape[1] // 2
    for first in range(0, len(order), batch_size * gather):
        rows = order[first:first + batch_size * gather]  # (R,)
        centers = windows.centers.index_select(0, rows).unsqueeze(1)  # (R, 1)
        contexts = windows.contexts.index_select(0, rows)  # (R, M)
        context_mask = windows.context_mask.index_select(0, rows).float()
        reach = windows.reach.index_select(0, rows)  # (R,)
        if not shared_negatives:
            negatives = sampler.sample((len(rows), negative), generator)  # (R, K)
            targets = torch.cat([centers, negatives], dim=1)  # (R, K+1)
            target_mask = torch.ones(targets.shape, dtype=torch.float32)
            target_mask[:, 1:] = (negatives != centers).float()
        for start in range(0, len(rows), batch_size):
            batch = slice(start, start + batch_size)
            shared = None
            if shared_negatives:
                shared = sampler.sample((shared_negatives,), generator)  # (S,)
                negatives = shared.expand(len(centers[batch]), shared_negatives)  # (C, S)
                batch_targets = torch.cat([centers[batch], negatives], dim=1)  # (C, S+1)
                batch_mask = torch.ones(batch_targets.shape, dtype=torch.float32)
                batch_mask[:, 1:] = (negatives != centers[batch]).float() * (negative / shared_negatives)
            else:
                batch_targets, batch_mask = targets[batch], target_mask[batch]
            columns = slice(None)
            if trim:
                most = int(reach[batch].max())
                columns = slice(window - most, window + most)  # offsets -most..-1, 1..most
            yield WindowBatch(contexts[batch, columns], context_mask[batch, columns], batch_targets, batch_mask,
                              shared)

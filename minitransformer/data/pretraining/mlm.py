"""Masked-language-model corruption exactly as in BERT (Devlin et al. 2019, section 3.1, "Task #1"):

    choose  k = min(max_predictions, max(1, round(0.15 · n)))  of the n ordinary tokens of a sequence
    (never [CLS], [SEP], [PAD] or any other special token), uniformly at random; then each chosen token is
        replaced by [MASK]             with probability 0.8,
        replaced by a random token     with probability 0.1  (an ordinary token, uniform over the vocabulary),
        left unchanged                 with probability 0.1.

The model must predict the original token at exactly the k chosen positions; everywhere else the label
is ``IGNORE_INDEX`` so the cross-entropy skips it. ``max_predictions`` is BERT's cap on predictions per
sequence (``max_predictions_per_seq``: 20 for 128-token sequences in the paper's code).

Batches carry the predictions in BERT's fixed-size form (``masked_lm_positions`` / ``masked_lm_ids`` in the
paper's code): positions (B, P) and labels (B, P), P = max_predictions, the k chosen positions of each row
in increasing order, then slots of position 0 with label ``IGNORE_INDEX``. The model gathers P hidden states
per sequence — a shape known before the data is seen, so a compiled graph needs no data-dependent size.
"""

import torch

from minitransformer.data.text.tokenizer import MASK_ID, SPECIAL_TOKENS

IGNORE_INDEX = -100
MASK_FRACTION = 0.15
REPLACE_WITH_MASK, REPLACE_WITH_RANDOM = 0.8, 0.1


def number_to_mask(n_candidates, mask_prob=MASK_FRACTION, max_predictions=20):
    """Per sequence: k = min(max_predictions, max(1, round(mask_prob · n))), and 0 when n = 0."""
    k = torch.clamp(torch.round(n_candidates.to(torch.float64) * mask_prob).long(), min=1, max=max_predictions)
    return torch.where(n_candidates > 0, k, torch.zeros_like(k))


def mask_tokens(input_ids, special_mask, vocab_size, generator=None, mask_prob=MASK_FRACTION, max_predictions=20,
                num_special=len(SPECIAL_TOKENS), mask_id=MASK_ID):
    """Corrupt ``input_ids`` (B, N) for MLM; ``special_mask`` (B, N) is True where a token may never be chosen.

    Returns ``(corrupted_ids, labels)``, both (B, N) long; ``labels`` holds the original id at the chosen
    positions and ``IGNORE_INDEX`` elsewhere. Random replacements are drawn from ids ``[num_special, vocab_size)``.
    """
    if input_ids.ndim != 2 or input_ids.dtype != torch.long:
        raise ValueError(f"input_ids must be a 2-D long tensor (B, N), got {input_ids.dtype} {tuple(input_ids.shape)}")
    if special_mask.shape != input_ids.shape or special_mask.dtype != torch.bool:
        raise ValueError(f"special_mask must be a bool tensor of shape {tuple(input_ids.shape)}")
    if not 0.0 < mask_prob <= 1.0:
        raise ValueError(f"mask_prob must be in (0, 1], got {mask_prob}")
    if not isinstance(max_predictions, int) or max_predictions < 1:
        raise ValueError(f"max_predictions must be a positive int, got {max_predictions!r}")
    if vocab_size <= num_special:
        raise ValueError(f"vocab_size ({vocab_size}) must exceed num_special ({num_special})")
    batch, length = input_ids.shape
    k = number_to_mask((~special_mask).sum(dim=1), mask_prob, max_predictions)  # (B,)
    scores = torch.rand(batch, length, generator=generator)
    scores[special_mask] = 2.0  # sorts after every candidate, so it is never among the first k
    rank = torch.empty_like(input_ids)
    rank.scatter_(1, scores.argsort(dim=1), torch.arange(length).expand(batch, length).contiguous())
    chosen = (rank < k[:, None]) & ~special_mask  # (B, N)

    decision = torch.rand(batch, length, generator=generator)
    to_mask = chosen & (decision < REPLACE_WITH_MASK)
    to_random = chosen & (decision >= REPLACE_WITH_MASK) & (decision < REPLACE_WITH_MASK + REPLACE_WITH_RANDOM)
    random_ids = torch.randint(num_special, vocab_size, (batch, length), generator=generator)

    corrupted = input_ids.clone()
    corrupted[to_mask] = mask_id
    corrupted[to_random] = random_ids[to_random]
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE_INDEX))
    return corrupted, labels


def masked_positions(labels, max_predictions):
    """``(positions, targets)``, both (B, max_predictions) long, from ``labels`` (B, N) of ``mask_tokens``:
    the positions whose label is not ``IGNORE_INDEX``, in increasing order, and their labels; the unused
    slots hold position 0 and label ``IGNORE_INDEX``."""
    if labels.ndim != 2 or labels.dtype != torch.long:
        raise ValueError(f"labels must be a 2-D long tensor (B, N), got {labels.dtype} {tuple(labels.shape)}")
    chosen = labels != IGNORE_INDEX  # (B, N)
    count = chosen.sum(1)  # (B,)
    if (count > max_predictions).any():
        raise ValueError(f"a row has {int(count.max())} predictions, more than max_predictions={max_predictions}")
    batch, length = labels.shape
    order = torch.argsort((~chosen).to(torch.uint8), dim=1, stable=True)  # chosen positions first, in order
    order = torch.cat([order, order.new_zeros(batch, max(0, max_predictions - length))], 1)[:, :max_predictions]
    used = torch.arange(max_predictions) < count[:, None]  # (B, P)
    positions = torch.where(used, order, torch.zeros_like(order))
    targets = torch.where(used, labels.gather(1, positions), torch.full_like(positions, IGNORE_INDEX))
    return positions, targets

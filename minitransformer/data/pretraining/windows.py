"""Masked-language-model batches cut from the same packed token stream that GPT reads
(data/pretraining/causal.py): RoBERTa's FULL-SENTENCES input (Liu et al. 2019, section 4.2).

The corpus is one stream of ids, documents joined by ``[SEP]``. An example is ``[CLS] w [SEP]`` where
``w`` is a window of ``max_len - 2`` consecutive ids starting at a random offset, so no position is
padding and a long review fills the whole sequence; 15% of the window is masked as in BERT
(data/pretraining/mlm.py), at most ``ceil(0.15 · (max_len - 2))`` positions. BERT and GPT therefore
pre-train on exactly the same text, in windows of the same length.
"""

import math

import torch

from minitransformer.data.pretraining.mlm import MASK_FRACTION, mask_tokens, masked_positions
from minitransformer.data.pretraining.nsp import NO_NSP
from minitransformer.data.text.tokenizer import CLS_ID, SEP_ID, SPECIAL_TOKENS


def mlm_window_batch(stream, max_len, batch_size, vocab_size, generator=None):
    """A ``bert_batch``-shaped dict of ``batch_size`` masked windows of ``stream``: ids (B, max_len), predictions
    (B, ceil(0.15 · (max_len - 2)))."""
    if stream.ndim != 1 or stream.dtype != torch.long:
        raise ValueError(f"stream must be a 1-D long tensor, got {stream.dtype} {tuple(stream.shape)}")
    if max_len < 3 or batch_size < 1:
        raise ValueError(f"max_len must be >= 3 and batch_size >= 1, got {max_len} and {batch_size}")
    width = max_len - 2
    if stream.numel() < width:
        raise ValueError(f"stream has {stream.numel()} tokens; max_len={max_len} needs at least {width}")
    starts = torch.randint(0, stream.numel() - width + 1, (batch_size,), generator=generator)  # (B,)
    windows = stream[starts[:, None] + torch.arange(width)]  # (B, max_len - 2)
    ids = torch.cat([torch.full((batch_size, 1), CLS_ID), windows, torch.full((batch_size, 1), SEP_ID)], dim=1)
    special = ids < len(SPECIAL_TOKENS)
    max_predictions = math.ceil(MASK_FRACTION * width)
    corrupted, labels = mask_tokens(ids, special, vocab_size, generator=generator, max_predictions=max_predictions)
    positions, targets = masked_positions(labels, max_predictions)
    return {"input_ids": corrupted, "segment_ids": torch.zeros_like(ids), "padding_mask": torch.zeros_like(special),
            "mlm_positions": positions, "mlm_labels": targets, "nsp_labels": torch.full((batch_size,), NO_NSP)}

"""Masked-LM windows of the packed stream: [CLS] window [SEP], no padding, 15% of the window masked."""

import math

import pytest
import torch

from minitransformer.data.pretraining.mlm import IGNORE_INDEX
from minitransformer.data.pretraining.windows import mlm_window_batch
from minitransformer.data.text.tokenizer import CLS_ID, MASK_ID, SEP_ID
from helpers import labels_per_position

@pytest.mark.parametrize("max_len", [3, 24, 258])
def test_windows_are_full_and_masked_at_fifteen_percent(max_len):
    stream = torch.arange(5, 5 + 1000)  # ordinary ids, each once: a window's position gives its original id
    batch = mlm_window_batch(stream, max_len, 8, vocab_size=2000, generator=torch.Generator().manual_seed(0))
    ids, labels = batch["input_ids"], labels_per_position(batch["mlm_positions"], batch["mlm_labels"], max_len)
    assert batch["mlm_positions"].shape == batch["mlm_labels"].shape == (8, math.ceil(0.15 * (max_len - 2)))
    assert ids.shape == (8, max_len) and not batch["padding_mask"].any()
    assert (ids[:, 0] == CLS_ID).all() and (ids[:, -1] == SEP_ID).all()
    chosen = labels != IGNORE_INDEX
    assert (chosen.sum(1) == max(1, round(0.15 * (max_len - 2)))).all() and not chosen[:, [0, -1]].any()
    for row in range(8):  # unmasked tokens are consecutive stream ids; labels restore the masked ones
        restored = torch.where(chosen[row], labels[row], ids[row])[1:-1]
        assert torch.equal(restored, torch.arange(int(restored[0]), int(restored[0]) + max_len - 2))
    assert (ids[chosen] == MASK_ID).float().mean() > 0.5

def test_windows_are_reproducible_and_checked():
    stream = torch.arange(5, 105)
    a = mlm_window_batch(stream, 10, 4, 200, generator=torch.Generator().manual_seed(3))
    b = mlm_window_batch(stream, 10, 4, 200, generator=torch.Generator().manual_seed(3))
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="needs at least"):
        mlm_window_batch(torch.arange(5, 10), 10, 2, 200)
    with pytest.raises(ValueError, match="1-D long"):
        mlm_window_batch(stream.float(), 10, 2, 200)

"""Classification batches: ``[CLS] text [SEP]`` padded to the longest sequence (at most ``max_len``)."""

import torch

from minitransformer.data.text.tokenizer import CLS_ID, PAD_ID, SEP_ID


def encode_texts(tokenizer, texts, max_len):
    """``(input_ids, padding_mask)``, both (N, L) with L = min(max_len, longest); long texts are cut."""
    if max_len < 3:
        raise ValueError(f"max_len must be at least 3 ([CLS] token [SEP]), got {max_len}")
    if not texts:
        raise ValueError("texts is empty")
    rows = [[CLS_ID, *tokenizer.encode(text)[:max_len - 2], SEP_ID] for text in texts]
    length = max(len(row) for row in rows)
    ids = torch.full((len(rows), length), PAD_ID, dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = torch.tensor(row)
    return ids, ids == PAD_ID

"""Right-padded batches cut to their longest sequence.

Every batch here is right-padded: row b holds its real tokens first, then ``[PAD]`` (``padding_mask``
True). The columns that are padding in every row change no output at a real token (attention masks
them), so dropping them only saves work: for a batch whose longest row has L real tokens the attention
cost falls from O(N²) to O(L²).
"""

import torch


def trim_padding(padding_mask, *tensors):
    """``tensors`` (each (B, N, ...)) cut to (B, L, ...), L = the longest row of ``padding_mask`` (B, N), at least 1."""
    length = max(1, int((~padding_mask).sum(1).max()))
    return tuple(tensor[:, :length] for tensor in tensors)


def map_trimmed_batches(fn, input_ids, padding_mask, batch_size):
    """``fn(ids, pad)`` over the rows of ``input_ids`` (N, T) ``batch_size`` at a time, each batch cut by
    ``trim_padding``; the results concatenated along the first dimension."""
    outputs = []
    for start in range(0, input_ids.shape[0], batch_size):
        pad = padding_mask[start:start + batch_size]
        outputs.append(fn(*trim_padding(pad, input_ids[start:start + batch_size], pad)))
    return torch.cat(outputs)

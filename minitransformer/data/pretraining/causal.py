"""Batches for causal language modelling (GPT; Radford et al. 2018): predict every next token,

    L = -(1 / (B·T)) Σ_b Σ_t log p(x_{b, t+1} | x_{b, 1..t}).

The corpus is one long stream of token ids (documents joined by ``[SEP]``). A batch is B windows of
T + 1 consecutive ids starting at random offsets; the input is the first T, the target the last T.
"""

import torch

from minitransformer.data.text.tokenizer import SEP_ID


def token_stream(tokenizer, texts):
    """All ``texts`` encoded and joined with ``[SEP]``: a 1-D long tensor."""
    ids = []
    for text in texts:
        ids.extend(tokenizer.encode(text))
        ids.append(SEP_ID)
    if len(ids) == len(texts):
        raise ValueError("texts has no tokens: every text encodes to nothing")
    return torch.tensor(ids, dtype=torch.long)


def causal_lm_batch(stream, block_size, batch_size, generator=None):
    """``(inputs, targets)``, both (B, T): windows of ``stream`` and the same windows shifted by one."""
    if stream.ndim != 1 or stream.dtype != torch.long:
        raise ValueError(f"stream must be a 1-D long tensor, got {stream.dtype} {tuple(stream.shape)}")
    if block_size < 1 or batch_size < 1:
        raise ValueError(f"block_size and batch_size must be positive, got {block_size} and {batch_size}")
    if stream.numel() < block_size + 1:
        raise ValueError(f"stream has {stream.numel()} tokens; block_size={block_size} needs at least {block_size + 1}")
    starts = torch.randint(0, stream.numel() - block_size, (batch_size,), generator=generator)  # (B,)
    windows = stream[starts[:, None] + torch.arange(block_size + 1)]  # (B, T + 1)
    return windows[:, :-1], windows[:, 1:]

"""A tiny GPT and a step-seeded batch source shared by the training tests (and the DDP worker)."""

import torch

from minitransformer.data.pretraining.causal import causal_lm_batch
from minitransformer.models.gpt import GPT, GPTConfig

VOCAB, BLOCK, GLOBAL_BATCH = 40, 8, 8


def tiny_gpt(seed=0, dropout=0.1, dtype=torch.float32):
    torch.manual_seed(seed)
    config = GPTConfig(vocab_size=VOCAB, max_len=BLOCK, d_model=16, n_layers=1, n_heads=2, d_ff=32,
                       dropout=dropout, backend="eager")
    return GPT(config).to(dtype)


STREAM = torch.randint(5, VOCAB, (500,), generator=torch.Generator().manual_seed(123))


def batch_for_step(step):
    """The global batch of ``step``: a pure function of the step, so resumed runs see the same data."""
    return causal_lm_batch(STREAM, BLOCK, GLOBAL_BATCH, generator=torch.Generator().manual_seed(1000 + step))

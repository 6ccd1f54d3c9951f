"""Training under bfloat16 autocast (TrainConfig(dtype="bfloat16")) through the fused ops: a small BERT and a
small GPT learn, and their loss curves stay within LOSS_TOLERANCE of the float32 run with the same seed, batches
and dropout masks."""

import pytest
import torch

from minitransformer.data.pretraining.causal import causal_lm_batch
from minitransformer.data.pretraining.windows import mlm_window_batch
from minitransformer.models.bert import BertConfig, BertForPreTraining
from minitransformer.models.gpt import GPT, GPTConfig
from minitransformer.nn.backends import resolve_backend
from minitransformer.train.loop import TrainConfig, train

pytestmark = pytest.mark.skipif(resolve_backend("auto") != "fused", reason="the fused ops are not built")

VOCAB, LENGTH, BATCH, STEPS = 60, 16, 16, 40
# A random 50-token phrase, repeated: learnable from context (masked tokens) and from the prefix (next tokens).
STREAM = torch.randint(5, VOCAB, (50,), generator=torch.Generator().manual_seed(7)).repeat(40)
# max over the steps of |bfloat16 loss - float32 loss| / float32 loss. bfloat16 keeps 8 bits of mantissa
# (u = 3.9e-3) and rounds every matrix product's inputs, but the loss averages over hundreds of tokens, where
# the roundings mostly cancel: measured 1.4e-4 (BERT) and 1.8e-4 (GPT) over 40 steps. 1e-2 is 2.5 u: far
# above that drift, and the test also asks that the bfloat16 run learns.
LOSS_TOLERANCE = 1e-2


def tiny(kind):
    torch.manual_seed(0)
    sizes = dict(vocab_size=VOCAB, max_len=LENGTH, d_model=32, n_layers=2, n_heads=2, d_ff=64, dropout=0.1,
                 backend="fused")
    return BertForPreTraining(BertConfig(**sizes)) if kind == "bert" else GPT(GPTConfig(**sizes))


def batches(kind):
    def get_batch(step):
        generator = torch.Generator().manual_seed(step)
        if kind == "bert":
            return mlm_window_batch(STREAM, LENGTH, BATCH, VOCAB, generator)
        return causal_lm_batch(STREAM, LENGTH, BATCH, generator)
    return get_batch


def losses(kind, dtype):
    config = TrainConfig(steps=STEPS, lr=3e-3, warmup_steps=5, eval_every=0, checkpoint_every=0, dtype=dtype)
    return torch.tensor([record["loss"] for record in train(tiny(kind), batches(kind), config, progress=False)])


@pytest.mark.parametrize("kind", ["bert", "gpt"])
def test_bfloat16_autocast_learns_and_tracks_the_float32_run(kind):
    float32, bfloat16 = losses(kind, "float32"), losses(kind, "bfloat16")
    assert bfloat16[-5:].mean() < 0.9 * bfloat16[:5].mean()  # it learns: 4.05 -> 3.40 (BERT), 4.03 -> 3.09 (GPT)
    gap = ((bfloat16 - float32).abs() / float32).max().item()
    assert gap <= LOSS_TOLERANCE, f"max relative gap {gap:.4f}"

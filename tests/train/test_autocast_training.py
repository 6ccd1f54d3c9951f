"""Training under autocast through the fused ops, in bfloat16 (TrainConfig(dtype="bfloat16")) and in float16 with
a gradient scaler (dtype="float16"): a small BERT and a small GPT learn, and their loss curves stay within
loss_tolerance(dtype) of the float32 run with the same seed, batches and dropout masks; on the CPU and, marked
``cuda``, on a GPU."""

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
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


def loss_tolerance(dtype):
    """The bound on max over the steps of |loss - float32 loss| / float32 loss: 2.5 u, u the unit round-off of
    ``dtype`` (bfloat16 keeps 8 significant bits, u = 3.9e-3; float16 11, u = 4.9e-4). Autocast rounds every
    matrix product's inputs, but the loss averages over hundreds of tokens, where the roundings mostly cancel:
    measured on the CPU over 40 steps, 1.9e-4 (BERT) and 2.1e-4 (GPT) in bfloat16, 2.0e-5 and 1.9e-5 in
    float16, far below the bound; the test also asks that the run learns."""
    return 2.5 * torch.finfo(getattr(torch, dtype)).eps / 2


def tiny(kind, device):
    torch.manual_seed(0)
    sizes = dict(vocab_size=VOCAB, max_len=LENGTH, d_model=32, n_layers=2, n_heads=2, d_ff=64, dropout=0.1,
                 backend="fused")
    model = BertForPreTraining(BertConfig(**sizes)) if kind == "bert" else GPT(GPTConfig(**sizes))
    return model.to(device)


def batches(kind, device):
    def get_batch(step):
        generator = torch.Generator().manual_seed(step)
        if kind == "bert":
            return {key: value.to(device) for key, value in
                    mlm_window_batch(STREAM, LENGTH, BATCH, VOCAB, generator).items()}
        return tuple(tensor.to(device) for tensor in causal_lm_batch(STREAM, LENGTH, BATCH, generator))
    return get_batch


def history(kind, dtype, device):
    config = TrainConfig(steps=STEPS, lr=3e-3, warmup_steps=5, eval_every=0, checkpoint_every=0, dtype=dtype)
    return train(tiny(kind, device), batches(kind, device), config, progress=False)


def losses(records):
    return torch.tensor([record["loss"] for record in records])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("kind", ["bert", "gpt"])
def test_autocast_learns_and_tracks_the_float32_run(kind, dtype, device):
    records = history(kind, dtype, device)
    float32, half = losses(history(kind, "float32", device)), losses(records)
    assert half[-5:].mean() < 0.9 * half[:5].mean()  # it learns: 4.05 -> 3.40 (BERT), 4.03 -> 3.09 (GPT)
    gap = ((half - float32).abs() / float32).max().item()
    assert gap <= loss_tolerance(dtype), f"max relative gap {gap:.2e}"
    # float16 scales its loss (by 2^16: these gradients never overflow it), bfloat16 needs no scaler
    assert [record.get("loss_scale") for record in records] == [2.0 ** 16 if dtype == "float16" else None] * STEPS

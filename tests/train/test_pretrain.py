"""Pre-training end to end on a tiny corpus: loss falls, the checkpoint rebuilds model and tokenizer."""

import pytest
import torch

from minitransformer.train.loop import CHECKPOINT_NAME, TrainConfig
from minitransformer.train.pretrain import load_bert, pretrain_bert, pretraining_texts

PLACES = [("king", "castle"), ("queen", "garden"), ("fool", "market"), ("knight", "field")]
TEXTS = [f"Story {k}. " + " ".join(f"The {w} went to the {v} and came back." for w, v in PLACES[k % 4:])
         for k in range(40)]


def test_pretrain_and_reload(tmp_path):
    model, tokenizer, history = pretrain_bert(
        TEXTS, tmp_path, TrainConfig(steps=25, lr=3e-3, warmup_steps=3, eval_every=25, checkpoint_every=0),
        vocab_size=60, batch_size=8, model_kwargs={"max_len": 24, "d_model": 16, "n_layers": 1, "n_heads": 2,
                                                   "d_ff": 32, "backend": "reference"}, progress=False)
    assert history[-1]["loss"] < history[0]["loss"]
    assert {"eval_mlm_accuracy", "eval_nsp_accuracy", "eval_loss"} <= set(history[-1])
    loaded, loaded_tokenizer, state = load_bert(tmp_path / CHECKPOINT_NAME)
    assert loaded_tokenizer.vocab == tokenizer.vocab and state["step"] == 25
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
    assert (tmp_path / "loss_curve.png").is_file() and (tmp_path / "tokenizer.json").is_file()


def test_bad_sources():
    with pytest.raises(ValueError, match="sources"):
        pretraining_texts(sources=("wikipedia",))
    with pytest.raises(ValueError, match="text file not found"):
        pretraining_texts(sources=(), files=["/nonexistent.txt"])
    with pytest.raises(ValueError, match="no pre-training text"):
        pretraining_texts(sources=())

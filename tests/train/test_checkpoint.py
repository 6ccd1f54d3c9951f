"""Safetensors checkpoints: round trip, atomic writes, truncated and mismatched files, no pickle; a
pre-training checkpoint rebuilds its model (BERT or GPT) and tokenizer, and refuses to be anything else."""

import json

import pytest
import torch
from safetensors import safe_open

from minitransformer.data.text.tokenizer import WordPieceTokenizer
from minitransformer.models.bert import BertConfig, BertForPreTraining
from minitransformer.models.cnn import CNN
from minitransformer.models.gpt import GPT
from minitransformer.optim import AdamW
from minitransformer.train.checkpoint import (FORMAT_NAME, PRETRAINED_MODELS, load_checkpoint, load_pretrained,
                                              pretraining_state, read_checkpoint, save_checkpoint)

from .tiny import batch_for_step, tiny_gpt


def _trained(seed=0):
    model = tiny_gpt(seed)
    optimizer = AdamW(model.parameters(), lr=1e-2)
    for step in range(2):
        loss, _ = model.loss(batch_for_step(step))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, optimizer


def test_round_trip_restores_model_optimizer_rng_and_state(tmp_path):
    model, optimizer = _trained()
    path = save_checkpoint(tmp_path / "ckpt.safetensors", model, optimizer, {"step": 2, "note": "hi"})
    expected_rng = torch.get_rng_state()
    torch.rand(10)
    other, other_optimizer = tiny_gpt(seed=1), None
    other_optimizer = AdamW(other.parameters(), lr=5.0)
    state = load_checkpoint(path, other, other_optimizer)
    assert state["step"] == 2 and state["note"] == "hi"
    for (name, a), b in zip(model.state_dict().items(), other.state_dict().values()):
        assert torch.equal(a, b), name
    assert torch.equal(torch.get_rng_state(), expected_rng)
    assert other_optimizer.param_groups[0]["lr"] == 1e-2
    for p, q in zip(model.parameters(), other.parameters()):
        for key in ("exp_avg", "exp_avg_sq"):
            assert torch.equal(optimizer.state[p][key], other_optimizer.state[q][key])
        assert other_optimizer.state[q]["step"] == 2
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))  # temporary file renamed


def test_file_is_plain_safetensors_with_json_metadata(tmp_path):
    model, optimizer = _trained()
    path = save_checkpoint(tmp_path / "c.safetensors", model, optimizer, {"step": 2})
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
        keys = set(handle.keys())
    assert metadata["format"] == FORMAT_NAME and json.loads(metadata["state"])["step"] == 2
    assert "rng/torch" in keys and "model/token_embeddings.weight" in keys
    assert any(k.startswith("optimizer/") for k in keys)


def test_truncated_checkpoint_raises_a_clear_error(tmp_path):
    model, optimizer = _trained()
    path = save_checkpoint(tmp_path / "c.safetensors", model, optimizer)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or not a safetensors file"):
        load_checkpoint(path, tiny_gpt())
    path.write_bytes(b"\x80\x04pickle?")
    with pytest.raises(ValueError, match="truncated or not a safetensors file"):
        read_checkpoint(path)
    with pytest.raises(ValueError, match="checkpoint not found"):
        read_checkpoint(tmp_path / "missing.safetensors")


def test_mismatched_checkpoint_raises_a_clear_error(tmp_path):
    model, _ = _trained()
    path = save_checkpoint(tmp_path / "c.safetensors", model)
    bigger = tiny_gpt()
    bigger.final_norm.weight = torch.nn.Parameter(torch.ones(17))
    with pytest.raises(ValueError, match="final_norm.weight has shape"):
        load_checkpoint(path, bigger)
    deeper = tiny_gpt()
    deeper.extra = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="missing"):
        load_checkpoint(path, deeper)
    with pytest.raises(ValueError, match="no optimizer state"):
        load_checkpoint(path, tiny_gpt(), AdamW(tiny_gpt().parameters()))


def test_foreign_safetensors_file_is_rejected(tmp_path):
    from safetensors.torch import save_file
    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a minitransformer-checkpoint"):
        read_checkpoint(tmp_path / "other.safetensors")


TEXTS = [f"Story {k}. The king went to the castle and the fool went to the market." for k in range(20)]


def _tiny_bert(tokenizer, backend="eager"):
    torch.manual_seed(0)
    return BertForPreTraining(BertConfig(vocab_size=len(tokenizer), max_len=24, d_model=16, n_layers=1, n_heads=2,
                                         d_ff=32, backend=backend, positions="rotary"))


@pytest.mark.parametrize("kind", sorted(PRETRAINED_MODELS))
def test_load_pretrained_rebuilds_the_model_the_checkpoint_names(tmp_path, kind):
    tokenizer = WordPieceTokenizer.train(TEXTS, vocab_size=60)
    model = _tiny_bert(tokenizer) if kind == "bert" else tiny_gpt()
    path = save_checkpoint(tmp_path / "c.safetensors", model, state={**pretraining_state(model, tokenizer),
                                                                      "step": 7})
    loaded, loaded_tokenizer, state = load_pretrained(path)
    assert type(loaded) is {"bert": BertForPreTraining, "gpt": GPT}[kind] and loaded.config == model.config
    assert state["model"] == kind and state["step"] == 7 and loaded_tokenizer.vocab == tokenizer.vocab
    assert not loaded.training  # ready to evaluate; the training loop switches it back
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name
    assert load_pretrained(path, kind)[2]["model"] == kind
    other = "gpt" if kind == "bert" else "bert"
    with pytest.raises(ValueError, match=f"holds a {kind.upper()} model, not a {other.upper()}"):
        load_pretrained(path, other)


def test_load_pretrained_refuses_a_checkpoint_of_another_kind(tmp_path):
    tokenizer = WordPieceTokenizer.train(TEXTS, vocab_size=60)
    for state in ({"model": "classifier", "model_config": {}, "tokenizer": tokenizer.to_json()}, {"kind": "vision-cnn"},
                  {}):
        path = save_checkpoint(tmp_path / "other.safetensors", CNN(), state=state)
        with pytest.raises(ValueError, match="does not hold a pre-trained model"):
            load_pretrained(path)
    with pytest.raises(ValueError, match="checkpoint not found"):
        load_pretrained(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="CNN is not a pre-training model"):
        pretraining_state(CNN(), tokenizer)


def test_checkpoint_saved_with_the_former_backend_name_reference_still_loads(tmp_path):
    """Checkpoints written before the eager backend's rename store backend "reference" in their config."""
    tokenizer = WordPieceTokenizer.train(TEXTS, vocab_size=60)
    model = _tiny_bert(tokenizer, backend="reference")
    save_checkpoint(tmp_path / "old.safetensors", model, state=pretraining_state(model, tokenizer))
    loaded, _, state = load_pretrained(tmp_path / "old.safetensors")
    assert state["model_config"]["backend"] == "reference"
    assert all(layer.self_attn.backend == "eager" for layer in loaded.bert.layers)
    ids = torch.tensor([tokenizer.encode("The king went to the castle.")])
    torch.testing.assert_close(loaded(ids)[0], model.eval()(ids)[0])


def test_a_checkpoint_written_before_positions_existed_loads_with_learned_positions(tmp_path):
    tokenizer = WordPieceTokenizer.train(TEXTS, vocab_size=60)
    model = BertForPreTraining(BertConfig(vocab_size=len(tokenizer), max_len=24, d_model=16, n_layers=1, n_heads=2,
                                          d_ff=32, backend="eager"))
    state = pretraining_state(model, tokenizer)
    del state["model_config"]["positions"]
    save_checkpoint(tmp_path / "old.safetensors", model, state=state)
    loaded, _, _ = load_pretrained(tmp_path / "old.safetensors")
    assert loaded.config.positions == "learned" and loaded.bert.position_embeddings is not None

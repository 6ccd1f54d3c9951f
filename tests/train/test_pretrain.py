"""Pre-training end to end on a tiny corpus: loss falls, the checkpoint rebuilds model and tokenizer."""

import pytest
import torch

from minitransformer.train.loop import CHECKPOINT_NAME, TrainConfig
from minitransformer.data.labelled.sets import movie_reviews
from minitransformer.data.pretraining.nsp import bert_batch
from minitransformer.models.bert import BertConfig, BertForPreTraining
from minitransformer.data.text.tokenizer import WordPieceTokenizer
from minitransformer.train.checkpoint import pretraining_state, save_checkpoint
from minitransformer.train.pretrain import load_bert, pretrain_bert, pretraining_texts, trim_batch

PLACES = [("king", "castle"), ("queen", "garden"), ("fool", "market"), ("knight", "field")]
TEXTS = [f"Story {k}. " + " ".join(f"The {w} went to the {v} and came back." for w, v in PLACES[k % 4:])
         for k in range(40)]


def test_pretrain_and_reload(tmp_path):
    model, tokenizer, history = pretrain_bert(
        TEXTS, tmp_path, TrainConfig(steps=25, lr=3e-3, warmup_steps=3, eval_every=25, checkpoint_every=0),
        vocab_size=60, batch_size=8, model_kwargs={"max_len": 24, "d_model": 16, "n_layers": 1, "n_heads": 2,
                                                   "d_ff": 32, "backend": "eager"}, progress=False)
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


def test_pretraining_texts_are_distinct_and_include_every_source():
    texts = pretraining_texts(sources=("movie_reviews", "rotten_tomatoes"))
    assert len(texts) == len(set(texts))
    reviews = set(movie_reviews().texts)
    assert reviews <= set(texts) and len(texts) > len(reviews) + 5000  # RT adds new snippets and plots


def test_trimmed_batch_gives_the_same_loss():
    examples = [([5, 6, 7], [8, 9], 0), ([5, 6], [7], 1), ([9, 8, 7, 6], [5], 0)]
    batch = bert_batch(examples, max_len=16, vocab_size=12, generator=torch.Generator().manual_seed(0))
    trimmed = trim_batch(batch)
    assert trimmed["input_ids"].shape == (3, 8) and batch["input_ids"].shape == (3, 16)
    assert torch.equal(trimmed["nsp_labels"], batch["nsp_labels"]) and not trimmed["padding_mask"][:, -1].all()
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig(vocab_size=12, max_len=16, d_model=8, n_layers=1, n_heads=2, d_ff=16,
                                          dropout=0.0, backend="eager")).double()
    full_loss, _ = model.loss(batch)
    trimmed_loss, _ = model.loss(trimmed)
    assert torch.allclose(full_loss, trimmed_loss, atol=1e-12)


def test_pretrain_mlm_only(tmp_path):
    _, _, history = pretrain_bert(
        TEXTS, tmp_path, TrainConfig(steps=20, lr=3e-3, warmup_steps=2, eval_every=10, checkpoint_every=0),
        vocab_size=60, batch_size=8, model_kwargs={"max_len": 24, "d_model": 16, "n_layers": 1, "n_heads": 2,
                                                   "d_ff": 32, "backend": "eager"}, progress=False, nsp=False)
    assert history[-1]["nsp"] == 0.0 and history[-1]["loss"] == history[-1]["mlm"]
    assert "eval_nsp_accuracy" not in history[-1] and history[-1]["eval_mlm_loss"] < history[0]["mlm"]


def test_checkpoint_saved_with_the_former_backend_name_reference_still_loads(tmp_path):
    """Checkpoints written before the eager backend's rename store backend "reference" in their config."""
    tokenizer = WordPieceTokenizer.train(TEXTS, vocab_size=60)
    config = BertConfig(vocab_size=len(tokenizer), max_len=24, d_model=16, n_layers=1, n_heads=2, d_ff=32,
                        backend="reference")
    model = BertForPreTraining(config)
    save_checkpoint(tmp_path / "old.safetensors", model, state=pretraining_state("bert", config, tokenizer))
    loaded, _, state = load_bert(tmp_path / "old.safetensors")
    assert state["model_config"]["backend"] == "reference"
    assert all(layer.self_attn.backend == "eager" for layer in loaded.bert.layers)
    ids = torch.tensor([tokenizer.encode("The king went to the castle.")])
    torch.testing.assert_close(loaded.eval()(ids)[0], model.eval()(ids)[0])

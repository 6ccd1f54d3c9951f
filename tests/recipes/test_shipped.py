"""The shipped pre-trained BERT: small, its provenance recorded, fp16 storage as good as the fp32 weights,
and its held-out MLM accuracy recomputed from the file to the recorded figure."""

import pytest

from minitransformer.data.text.tokenizer import WordPieceTokenizer
from minitransformer.recipes.corpus import corpus_sha256, review_corpus
from minitransformer.recipes.pretraining import RECIPES, PretrainRecipe
from minitransformer.recipes.shipped import SHIPPED_BERT, held_out_mlm_accuracy, shipped_bert_path
from minitransformer.train.checkpoint import load_pretrained, read_checkpoint


@pytest.fixture(scope="module")
def shipped():
    model, tokenizer, state = load_pretrained(shipped_bert_path(), "bert")
    return model, tokenizer, state, read_checkpoint(SHIPPED_BERT)[0]


def test_the_file_is_small_and_half_precision(shipped):
    *_, tensors = shipped
    assert SHIPPED_BERT.stat().st_size <= 8 * 2**20
    assert {t.dtype for t in tensors.values() if t.is_floating_point()} == {__import__("torch").float16}


def test_provenance_is_in_the_metadata(shipped):
    _, _, state, _ = shipped
    assert PretrainRecipe(**state["recipe"]) == RECIPES["reviews-bert"]
    assert state["command"].startswith("minitransformer pretrain --recipe reviews-bert")
    assert state["steps"] == state["recipe"]["steps"] and state["tokens_seen"] == state["steps"] * 32 * 256
    for key in ("wall_seconds", "threads", "commit", "corpus_sha256", "held_out_mlm_accuracy_fp32"):
        assert key in state


def test_it_was_trained_on_the_test_free_corpus_with_its_tokenizer(shipped):
    _, tokenizer, state, _ = shipped
    corpus = review_corpus()
    assert state["corpus_sha256"] == corpus_sha256(corpus)
    assert WordPieceTokenizer.train(corpus, vocab_size=state["recipe"]["vocab_size"]).vocab == tokenizer.vocab


def test_held_out_mlm_accuracy_is_recomputed_and_fp16_matches_fp32(shipped):
    model, tokenizer, state, _ = shipped
    accuracy = held_out_mlm_accuracy(model, tokenizer, PretrainRecipe(**state["recipe"]))
    assert accuracy == pytest.approx(state["held_out_mlm_accuracy_fp16"], abs=1e-9)
    assert abs(accuracy - state["held_out_mlm_accuracy_fp32"]) < 0.005  # fp16 storage costs < 0.5 points


def test_the_model_card_is_written_from_the_file(shipped):
    from pathlib import Path

    from minitransformer.recipes.shipped import model_card
    card = Path(__file__).resolve().parents[2] / "docs" / "model_card.md"
    assert card.read_text() == model_card(shipped[2])

"""Training: the loop learns co-occurrence structure, is reproducible, validates its config, saves."""

import json
import multiprocessing

import numpy as np
import pytest
import torch
from safetensors import safe_open

from minitransformer.train.word2vec import Word2VecConfig, _Progress, _shards, save_checkpoint, train_word2vec


def topic_corpus(seed=0, sentences=400):
    """Sentences drawn from one of two disjoint 10-word topics: words should cluster by topic."""
    rng = np.random.default_rng(seed)
    topics = [[f"a{i}" for i in range(10)], [f"b{i}" for i in range(10)]]
    return [list(rng.choice(topics[rng.integers(2)], size=8)) for _ in range(sentences)]


def small_config(model, **overrides):
    values = dict(model=model, dim=16, window=3, negative=4, epochs=4, min_count=1, sample=0,
                  batch_size=32, threads=1, alpha=0.05)
    values.update(overrides)
    return Word2VecConfig(**values)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_learns_topics_and_loss_falls(model):
    result = train_word2vec(topic_corpus(), small_config(model), seed=0, progress=False)
    assert result.epoch_losses[-1] < 0.9 * result.epoch_losses[0]
    for word in ("a3", "b5"):
        neighbours = [w for w, _ in result.vectors.nearest(word, 5)]
        assert all(w[0] == word[0] for w in neighbours), neighbours
    assert len(result.vectors) == 20 and result.vectors.dim == 16
    assert result.words_per_second > 0 and result.seconds > 0


def test_one_thread_is_deterministic_and_seed_matters():
    corpus = topic_corpus(1, 100)
    first = train_word2vec(corpus, small_config("skipgram", epochs=1), seed=3, progress=False)
    again = train_word2vec(corpus, small_config("skipgram", epochs=1), seed=3, progress=False)
    other = train_word2vec(corpus, small_config("skipgram", epochs=1), seed=4, progress=False)
    np.testing.assert_array_equal(first.vectors.vectors, again.vectors.vectors)
    assert not np.array_equal(first.vectors.vectors, other.vectors.vectors)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_two_worker_processes_share_the_tables(model):
    result = train_word2vec(topic_corpus(2, 300), small_config(model, threads=2), seed=0, progress=False)
    assert result.words_per_second * result.seconds == pytest.approx(4 * 300 * 8, rel=1e-6)
    assert result.epoch_losses[-1] < 0.9 * result.epoch_losses[0]
    for word in ("a1", "b2"):  # both shards' updates reached the parent's tables
        assert all(w[0] == word[0] for w, _ in result.vectors.nearest(word, 5))


def test_shards_cut_at_sentence_starts():
    sentence_of = np.repeat(np.arange(6), [3, 1, 4, 2, 5, 1])  # 16 tokens
    shards = _shards(sentence_of, 3)
    assert shards[0][0] == 0 and shards[-1][1] == 16
    assert all(a == previous[1] for previous, (a, _) in zip(shards, shards[1:]))
    for a, _ in shards[1:]:
        assert sentence_of[a] != sentence_of[a - 1]
    assert _shards(np.zeros(5, dtype=int), 2) == [(0, 5)]  # one sentence cannot be split


def test_learning_rate_falls_linearly():
    config = Word2VecConfig(alpha=0.03, min_alpha=0.001)
    progress = _Progress(config, total=1000, context=multiprocessing.get_context("fork"))
    assert progress.learning_rate() == pytest.approx(0.03)
    progress.add(epoch=0, words=500, loss=1.0, windows=10)
    assert progress.learning_rate() == pytest.approx(0.0155)
    progress.add(epoch=1, words=700, loss=1.0, windows=10)  # the per-window token estimate can overshoot
    assert progress.learning_rate() == pytest.approx(0.001)


@pytest.mark.parametrize("bad, message", [(dict(model="glove"), "model"), (dict(dim=0), "dim"),
                                          (dict(window=0), "window"), (dict(min_alpha=0.5), "min_alpha"),
                                          (dict(sample=-1.0), "sample"), (dict(threads=0), "threads")])
def test_config_rejects_bad_values(bad, message):
    with pytest.raises(ValueError, match=message):
        Word2VecConfig(**bad)


def test_corpus_without_contexts_is_reported():
    with pytest.raises(ValueError, match="no word has a context"):
        train_word2vec([["alone"]] * 3, small_config("skipgram"), progress=False)
    with pytest.raises(ValueError, match="no word has a context"):  # "rare" goes: sentences 1 word each
        train_word2vec([["alone", "rare"], ["alone"], ["alone"]], small_config("skipgram", min_count=2),
                       progress=False)
    with pytest.raises(ValueError, match="vocabulary is empty"):
        train_word2vec([["a", "b"]], small_config("skipgram", min_count=5), progress=False)


def test_checkpoint_holds_both_tables(tmp_path):
    result = train_word2vec(topic_corpus(3, 50), small_config("skipgram", epochs=1), progress=False)
    save_checkpoint(result, tmp_path / "w2v.safetensors")
    with safe_open(str(tmp_path / "w2v.safetensors"), "pt") as f:
        assert json.loads(f.metadata()["words"]) == result.vectors.words
        assert json.loads(f.metadata()["config"])["model"] == "skipgram"
        np.testing.assert_array_equal(f.get_tensor("input_vectors").numpy(), result.vectors.vectors)
        assert torch.equal(f.get_tensor("output_vectors"), result.model.output_vectors.detach())


@pytest.mark.slow
@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_shakespeare_vectors_pass_the_evaluations(model):
    from minitransformer.data.text.corpus import shakespeare_texts
    from minitransformer.data.text.words import corpus_sentences
    from minitransformer.eval.analogy import analogy_accuracy
    from minitransformer.eval.datasets import load_analogies, load_word_pairs
    from minitransformer.eval.wordsim import wordsim_spearman
    result = train_word2vec(corpus_sentences(shakespeare_texts()), Word2VecConfig(model=model), seed=1,
                            progress=False)
    # gensim 4.4 with the same settings: about 3-5 % analogy accuracy and Spearman 0.1-0.2 (bench/)
    assert analogy_accuracy(result.vectors, load_analogies())["accuracy"] > 0.02
    assert wordsim_spearman(result.vectors, load_word_pairs())["spearman"] > 0.05
    assert result.vectors.nearest("king", 3)[0][0] in {"prince", "duke", "queen", "crown"}

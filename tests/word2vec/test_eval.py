"""Analogy accuracy, WordSim Spearman and neighbours, against scipy and gensim's own evaluations."""

import warnings

import numpy as np
import pytest
from gensim.models import KeyedVectors
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import spearmanr

from minitransformer.data.word2vec.vectors import WordVectors
from minitransformer.eval.analogy import analogy_accuracy
from minitransformer.eval.datasets import WORDSIM_FILE, gensim_test_file, load_analogies, load_word_pairs
from minitransformer.eval.wordsim import average_ranks, spearman, wordsim_spearman


@given(st.lists(st.tuples(st.integers(0, 5), st.floats(-1e3, 1e3)), min_size=3, max_size=40))
def test_spearman_matches_scipy_with_ties(pairs):
    x = [float(a) for a, _ in pairs]
    y = [b for _, b in pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on constant input; we check its nan
        expected = spearmanr(x, y).statistic
    if np.isnan(expected):
        assert np.isnan(spearman(x, y))
    else:
        assert spearman(x, y) == pytest.approx(expected, abs=1e-9)


def test_average_ranks_and_bad_input():
    assert average_ranks([10, 20, 10, 5]).tolist() == [2.5, 4.0, 2.5, 1.0]
    with pytest.raises(ValueError, match="same length"):
        spearman([1, 2], [1, 2, 3])


def test_gensim_test_files_load():
    questions, pairs = load_analogies(), load_word_pairs()
    assert len(questions) == 19544 and questions[0] == ("capital-common-countries", "athens", "greece",
                                                        "baghdad", "iraq")
    assert len(pairs) == 353 and pairs[0] == ("love", "sex", 6.77)


def random_vectors(seed, words):
    rng = np.random.default_rng(seed)
    return WordVectors(words, rng.normal(size=(len(words), 8)).astype(np.float32))


def as_keyed(vectors):
    keyed = KeyedVectors(vectors.dim)
    keyed.add_vectors(vectors.words, vectors.vectors)
    return keyed


def test_analogy_matches_gensim(tmp_path):
    questions = load_analogies()
    family = [q for q in questions if q[0] in ("family", "gram2-opposite")][:400]
    words = sorted({w for q in family for w in q[1:]})[:60]  # drop some words: partial coverage
    vectors = random_vectors(0, words)
    asked = [q for q in family if all(w in vectors for w in q[1:])]
    assert len(asked) > 10
    path = tmp_path / "questions.txt"
    path.write_text("".join(f": {q[0]}\n{' '.join(q[1:])}\n" for q in family))
    ours = analogy_accuracy(vectors, load_analogies(path))
    score, sections = as_keyed(vectors).evaluate_word_analogies(str(path))
    gensim_total = sections[-1]
    assert ours["asked"] == len(asked) == len(gensim_total["correct"]) + len(gensim_total["incorrect"])
    assert ours["accuracy"] == pytest.approx(score)
    assert ours["coverage"] == pytest.approx(len(asked) / len(family))


def test_analogy_finds_planted_offsets():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(4, 50))
    gender = rng.normal(size=50)
    words = ["man", "king", "boy", "prince", "woman", "queen", "girl", "princess"]
    vectors = WordVectors(words, np.vstack([base, base + 3 * gender]).astype(np.float32))
    questions = [("family", "man", "woman", "king", "queen"), ("family", "boy", "girl", "prince", "princess"),
                 ("family", "man", "woman", "unicorn", "unicorns")]
    result = analogy_accuracy(vectors, questions)
    assert result["accuracy"] == 1.0 and result["asked"] == 2 and result["coverage"] == pytest.approx(2 / 3)
    assert result["semantic_accuracy"] == 1.0 and np.isnan(result["syntactic_accuracy"])
    with pytest.raises(ValueError, match="questions"):
        analogy_accuracy(vectors, [])


def test_wordsim_matches_gensim():
    pairs = load_word_pairs()
    words = sorted({w for a, b, _ in pairs for w in (a, b)})[::2]
    vectors = random_vectors(1, words)
    ours = wordsim_spearman(vectors, pairs)
    _, gensim_spearman, oov_percent = as_keyed(vectors).evaluate_word_pairs(str(gensim_test_file(WORDSIM_FILE)))
    assert ours["spearman"] == pytest.approx(gensim_spearman.statistic, abs=1e-9)
    assert ours["coverage"] == pytest.approx(1 - oov_percent / 100)


def test_nearest_matches_gensim_most_similar():
    vectors = random_vectors(2, [f"w{i}" for i in range(40)])
    ours = vectors.nearest("w7", 5)
    theirs = as_keyed(vectors).most_similar("w7", topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([c for _, c in ours], [c for _, c in theirs], rtol=1e-5)

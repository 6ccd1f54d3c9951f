"""word2vec text and binary files: our writer and reader, and gensim reading ours and writing for us."""

import numpy as np
import pytest
from gensim.models import KeyedVectors

from minitransformer.data.word2vec.format import load_word2vec, save_word2vec
from minitransformer.data.word2vec.vectors import WordVectors


def sample_vectors(seed=0, count=7, dim=5):
    rng = np.random.default_rng(seed)
    words = ["king", "queen", "o'er", "thée", "a", "zz", "x"][:count]
    return WordVectors(words, rng.normal(size=(count, dim)).astype(np.float32) * 10.0 ** rng.integers(-6, 6))


@pytest.mark.parametrize("binary", [False, True])
def test_round_trip_is_exact(tmp_path, binary):
    vectors = sample_vectors()
    path = tmp_path / "v"
    save_word2vec(vectors, path, binary=binary)
    loaded = load_word2vec(path, binary=binary)
    assert loaded.words == vectors.words
    np.testing.assert_array_equal(loaded.vectors, vectors.vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_ours(tmp_path, binary):
    vectors = sample_vectors(1)
    save_word2vec(vectors, tmp_path / "v", binary=binary)
    keyed = KeyedVectors.load_word2vec_format(str(tmp_path / "v"), binary=binary)
    assert list(keyed.index_to_key) == vectors.words
    np.testing.assert_array_equal(keyed.vectors, vectors.vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_we_read_gensims(tmp_path, binary):
    vectors = sample_vectors(2)
    keyed = KeyedVectors(vectors.dim)
    keyed.add_vectors(vectors.words, vectors.vectors)
    keyed.save_word2vec_format(str(tmp_path / "g"), binary=binary)
    loaded = load_word2vec(tmp_path / "g", binary=binary)
    assert loaded.words == vectors.words
    np.testing.assert_allclose(loaded.vectors, vectors.vectors, rtol=1e-6)


def test_malformed_files_raise(tmp_path):
    (tmp_path / "header").write_text("three 5\n")
    with pytest.raises(ValueError, match="first line"):
        load_word2vec(tmp_path / "header")
    (tmp_path / "short").write_text("2 3\nking 1 2 3\nqueen 1 2\n")
    with pytest.raises(ValueError, match="queen"):
        load_word2vec(tmp_path / "short")
    (tmp_path / "cut.bin").write_bytes(b"2 2\nking " + np.zeros(2, "<f4").tobytes() + b"\nque")
    with pytest.raises(ValueError, match="ends inside word 1"):
        load_word2vec(tmp_path / "cut.bin", binary=True)
    with pytest.raises(ValueError, match="not found"):
        load_word2vec(tmp_path / "missing")


def test_word_vectors_validate_and_look_up():
    vectors = WordVectors(["a", "b", "c"], [[1, 0], [0.9, 0.1], [-1, 0]])
    assert vectors.nearest("a", 5)[0][0] == "b" and len(vectors.nearest("a", 5)) == 2
    assert vectors.similarity("a", "c") == pytest.approx(-1.0)
    with pytest.raises(KeyError, match="unknown word 'zebra'"):
        vectors.nearest("zebra")
    with pytest.raises(ValueError, match="top"):
        vectors.nearest("a", 0)
    with pytest.raises(ValueError, match="whitespace"):
        WordVectors(["a b"], [[1.0]])
    with pytest.raises(ValueError, match="distinct"):
        WordVectors(["a", "a"], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="vectors must be"):
        WordVectors(["a"], [1.0, 2.0])

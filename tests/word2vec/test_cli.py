"""`minitransformer word2vec train | eval | neighbors`, including the messages for bad input."""

import numpy as np
from gensim.models import KeyedVectors

from minitransformer.cli import main

SMALL = ["--dim", "8", "--window", "2", "--epochs", "2", "--min-count", "1", "--sample", "0", "--threads", "1"]


def write_corpus(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{letter}" for letter in "abcdefghijklmno"]  # the tokeniser drops digits
    text = ". ".join(" ".join(rng.choice(words, size=6)) for _ in range(200)) + "."
    path = tmp_path / "corpus.txt"
    path.write_text(text)
    return path


def test_train_eval_neighbors(tmp_path, capsys):
    corpus = write_corpus(tmp_path)
    out = tmp_path / "vectors.bin"
    assert main(["word2vec", "train", "--corpus", str(corpus), "--out", str(out),
                 "--checkpoint", str(tmp_path / "w.safetensors"), *SMALL]) == 0
    assert "15 words x 8 dims" in capsys.readouterr().out
    assert len(KeyedVectors.load_word2vec_format(str(out), binary=True)) == 15
    assert (tmp_path / "w.safetensors").is_file()
    assert main(["word2vec", "neighbors", str(out), "wc", "--top", "2"]) == 0
    assert capsys.readouterr().out.startswith("wc: ")
    assert main(["word2vec", "eval", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "analogy accuracy" in printed and "WordSim-353 Spearman" in printed


def test_text_format_and_bad_input_messages(tmp_path, capsys):
    corpus = write_corpus(tmp_path)
    out = tmp_path / "vectors.txt"
    assert main(["word2vec", "train", "--corpus", str(corpus), "--out", str(out), *SMALL]) == 0
    assert out.read_text().startswith("15 8\n")
    capsys.readouterr()
    assert main(["word2vec", "neighbors", str(out), "zebra"]) == 2
    assert "unknown word 'zebra'" in capsys.readouterr().err
    assert main(["word2vec", "train", "--corpus", str(tmp_path / "nope.txt"), "--out", str(out)]) == 2
    assert "corpus file not found" in capsys.readouterr().err
    assert main(["word2vec", "train", "--corpus", str(corpus), "--out", str(out), "--min-count", "100000"]) == 2
    assert "vocabulary is empty" in capsys.readouterr().err
    assert main(["word2vec", "eval", str(tmp_path / "missing.bin")]) == 2
    assert "vector file not found" in capsys.readouterr().err
    assert main(["word2vec", "train", "--corpus", str(corpus), "--out", str(out), "--model", "glove"]) == 2
    assert "model must be one of" in capsys.readouterr().err

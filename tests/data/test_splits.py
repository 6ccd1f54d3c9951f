"""IMDB and Pang & Lee loaders, three-way splits, and the normalised-text guard."""

import pytest

from minitransformer.data.labelled import LabelledTexts, imdb, load_dataset, sentence_polarity
from minitransformer.data.splits import Split, normalise_text, three_way_split, without_texts


def test_imdb_is_the_distinct_balanced_training_set_without_html():
    data = imdb()
    assert 24_800 < len(data) <= 25_000 and len(set(data.texts)) == len(data)
    assert abs(sum(data.labels) - len(data) / 2) < 100 and data.class_names == ["negative", "positive"]
    assert not any("<br" in text for text in data.texts)
    assert sum(len(text.split()) for text in data.texts) / len(data) > 200
    assert load_dataset("imdb").texts == data.texts


def test_sentence_polarity_loads():
    data = sentence_polarity()
    assert 8_000 < len(data) <= 8_530 and set(data.labels) == {0, 1}


def test_three_way_split_is_fixed_disjoint_and_complete(tmp_path):
    data = LabelledTexts("toy", [f"text {i}" for i in range(1000)], [i % 2 for i in range(1000)], ["a", "b"])
    split = three_way_split(data, 0.1, 0.2, seed=3)
    assert split == three_way_split(data, 0.1, 0.2, seed=3) != three_way_split(data, 0.1, 0.2, seed=4)
    assert (len(split.train), len(split.validation), len(split.test)) == (700, 100, 200)
    assert sorted(split.train + split.validation + split.test) == list(range(1000))
    split.save(tmp_path / "split.json")
    assert Split.load(tmp_path / "split.json") == split
    assert len(three_way_split(data, 0.1, 0.5, seed=0, max_test=50).test) == 50


@pytest.mark.parametrize("fractions", [(0.0, 0.2), (0.5, 0.5), (0.2, 1.2)])
def test_bad_split_fractions_are_rejected(fractions):
    data = LabelledTexts("toy", ["a"] * 10, [0] * 10, ["a"])
    with pytest.raises(ValueError, match="fraction"):
        three_way_split(data, *fractions)


def test_too_small_a_set_is_rejected():
    with pytest.raises(ValueError, match="too few"):
        three_way_split(LabelledTexts("toy", ["a", "b"], [0, 1], ["a", "b"]), 0.1, 0.2)


def test_normalised_texts_match_across_tokenisations():
    assert normalise_text("It's a FILM, really!") == normalise_text("it 's a film , really .") == "itsafilmreally"
    assert without_texts(["It's good.", "bad", "fine"], ["its good", "FINE!"]) == ["bad"]

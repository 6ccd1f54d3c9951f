"""Three-way and held-out splits, and the normalised-text guard."""

import pytest

from minitransformer.data.labelled.sets import LabelledTexts
from minitransformer.data.labelled.splits import (Split, held_out_split, normalise_text, three_way_split,
                                                  without_texts)


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


def test_held_out_split_is_fixed_and_disjoint():
    train, test = held_out_split(1000, 0.2, seed=3)
    assert (train, test) == held_out_split(1000, 0.2, seed=3)
    assert len(test) == 200 and not set(train) & set(test) and len(train) + len(test) == 1000
    with pytest.raises(ValueError, match="test_fraction"):
        held_out_split(10, 1.5)


def test_normalised_texts_match_across_tokenisations():
    assert normalise_text("It's a FILM, really!") == normalise_text("it 's a film , really .") == "itsafilmreally"
    assert without_texts(["It's good.", "bad", "fine"], ["its good", "FINE!"]) == ["bad"]

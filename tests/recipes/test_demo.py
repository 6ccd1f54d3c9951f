"""The demo's statistics and wording: the paired bootstrap interval and what it is said to mean."""

import numpy as np
import pytest

from minitransformer.recipes import demo


def test_bootstrap_gain_is_the_mean_difference_with_a_covering_interval():
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 4000)) < 0.75, rng.random((2, 4000)) < 0.65
    gain, low, high = demo.bootstrap_gain(a, b)
    assert gain == pytest.approx(100 * (a.mean() - b.mean()))
    assert low < gain < high and low > 5 and high < 15  # true gain 10 points; interval about ±1.4
    same = demo.bootstrap_gain(a, a)
    assert same == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("low, high, other, words", [
    (1.0, 5.0, "scratch", "pays"), (-5.0, -1.0, "scratch", "costs"), (-1.0, 2.0, "scratch", "noise"),
    (1.0, 5.0, "tfidf", "is ahead"), (-5.0, -1.0, "tfidf", "is behind"), (-1.0, 2.0, "tfidf", "noise")])
def test_verdict_follows_the_interval(low, high, other, words):
    assert words in demo.verdict(low, high, other)


def test_table_speaks_plainly():
    records = {arm: [{"n_labels": 500, "accuracy": 0.7}, {"n_labels": 500, "accuracy": 0.72}] for arm in demo.ARMS}
    rng = np.random.default_rng(1)
    correct = {arm: rng.random((2, 500)) < p for arm, p in zip(demo.ARMS, (0.8, 0.6, 0.8))}
    text = demo.comparison_table(records, correct)
    assert "with 500 labels" in text and "71.0%" in text and "pre-training pays" in text
    assert "costs" not in text.split("tfidf")[-1]  # TF-IDF is another model, not "no pre-training"
    assert "NOT" not in text and "goal" not in text.lower()

"""Hand-written classification metrics against scikit-learn on random labels."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from sklearn import metrics as sk

from minitransformer.metrics import classification_report, confusion_matrix


@given(st.integers(2, 6), st.integers(1, 60), st.integers(0, 2**32 - 1))
def test_metrics_match_sklearn(num_classes, n, seed):
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, num_classes, n), rng.integers(0, num_classes, n)
    labels = list(range(num_classes))
    report = classification_report(y_true, y_pred, num_classes)
    assert np.array_equal(report["confusion_matrix"], sk.confusion_matrix(y_true, y_pred, labels=labels))
    assert report["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred))
    for ours, theirs in [("precision", sk.precision_score), ("recall", sk.recall_score), ("f1", sk.f1_score)]:
        expected = theirs(y_true, y_pred, labels=labels, average=None, zero_division=0)
        np.testing.assert_allclose(report[ours], expected, atol=1e-12)
        macro = theirs(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        assert report[f"macro_{ours}"] == pytest.approx(macro, abs=1e-12)


def test_perfect_and_all_wrong_predictions():
    assert classification_report([0, 1, 1], [0, 1, 1])["macro_f1"] == 1.0
    report = classification_report([0, 0, 1], [1, 1, 0])
    assert report["accuracy"] == 0.0 and report["macro_f1"] == 0.0


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="y_true is empty"):
        confusion_matrix([], [])
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix([0, 3], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="y_pred must be a 1-D"):
        confusion_matrix([0, 1], [0.5, 1.0])
    with pytest.raises(ValueError, match="negative"):
        confusion_matrix([0, -1], [0, 1])

"""reference/losses.py: cross-entropy and BCE gradients vs central differences, known values."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.reference import losses
from minitransformer.reference.numerical import numerical_gradient


@given(rows=st.integers(1, 5), classes=st.integers(1, 5), smoothing=st.sampled_from([0.0, 0.2]),
       reduction=st.sampled_from(["mean", "sum"]), seed=st.integers(0, 999))
def test_cross_entropy_backward_matches_finite_differences(rows, classes, smoothing, reduction, seed):
    rng = np.random.default_rng(seed)
    logits = 2 * rng.normal(size=(rows, classes))
    targets = rng.integers(0, classes, size=rows)
    targets[rng.random(rows) < 0.3] = -100
    grad = losses.cross_entropy_backward(logits, targets, label_smoothing=smoothing, reduction=reduction)
    expected = numerical_gradient(lambda t: losses.cross_entropy(t, targets, label_smoothing=smoothing,
                                                                 reduction=reduction), logits, 1.0)
    assert np.allclose(grad, expected, atol=1e-7)


def test_cross_entropy_known_values():
    uniform = np.zeros((2, 4))
    assert math.isclose(losses.cross_entropy(uniform, np.array([0, 3])), math.log(4))
    assert losses.cross_entropy(uniform, np.array([-100, -100])) == 0.0
    confident = np.array([[50.0, 0.0]])
    smoothed = losses.cross_entropy(confident, np.array([0]), label_smoothing=0.2)
    assert math.isclose(smoothed, 0.1 * 50.0, rel_tol=1e-9)  # eps/C of the mass sits on the -50 logit


@given(size=st.integers(1, 6), pos_weight=st.sampled_from([1.0, 3.0]), seed=st.integers(0, 999))
def test_bce_backward_matches_finite_differences(size, pos_weight, seed):
    rng = np.random.default_rng(seed)
    logits, targets = 3 * rng.normal(size=size), rng.random(size)
    grad = losses.binary_cross_entropy_with_logits_backward(logits, targets, pos_weight)
    expected = numerical_gradient(lambda t: losses.binary_cross_entropy_with_logits(t, targets, pos_weight), logits, 1.0)
    assert np.allclose(grad, expected, atol=1e-8)
    assert math.isclose(losses.binary_cross_entropy_with_logits(np.array([0.0]), np.array([1.0])), math.log(2))

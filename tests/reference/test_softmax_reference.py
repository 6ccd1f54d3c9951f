"""The NumPy softmax reference against independent computations: float64 torch and finite differences."""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minitransformer.reference import softmax as ref

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=9)
finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


@given(st.data())
def test_forward_matches_float64_torch(data):
    x = data.draw(hnp.arrays(np.float64, shapes, elements=finite))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    expected = torch.softmax(torch.from_numpy(x), axis).numpy()
    np.testing.assert_allclose(ref.softmax(x, axis), expected, rtol=1e-12, atol=1e-15)


@given(st.data())
def test_backward_matches_finite_differences(data):
    x = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=5),
                             elements=st.floats(-5, 5)))
    g = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(-1, 1)))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    analytic = ref.softmax_backward(ref.softmax(x, axis), g, axis)
    eps = 1e-6
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        loss_plus = np.sum(g * ref.softmax(x + step, axis))
        loss_minus = np.sum(g * ref.softmax(x - step, axis))
        numeric[index] = (loss_plus - loss_minus) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_large_logits_do_not_overflow():
    y = ref.softmax(np.array([[1e4, 1e4 - 1.0, -1e4]]))
    np.testing.assert_allclose(y, [[1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0.0]])


def test_all_minus_inf_row_gives_zeros_and_others_are_untouched():
    x = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    np.testing.assert_array_equal(ref.softmax(x), [[0.0, 0.0], [1.0, 0.0]])


def test_empty_input_gives_empty_output():
    assert ref.softmax(np.zeros((0, 3))).shape == (0, 3)


def test_backward_rejects_mismatched_shapes():
    try:
        ref.softmax_backward(np.zeros((2, 3)), np.zeros((3, 2)))
    except ValueError as error:
        assert "same shape" in str(error)
    else:
        raise AssertionError("expected a ValueError")

"""reference/activations.py, linear.py, feedforward.py: derivatives vs central differences."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.reference import activations, feedforward, linear
from minitransformer.reference.numerical import numerical_gradient


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_derivative_and_known_values(approximate):
    x = np.linspace(-5, 5, 41)
    grad = activations.gelu_backward(x, np.ones_like(x), approximate)
    assert np.allclose(grad, numerical_gradient(lambda t: activations.gelu(t, approximate), x, np.ones_like(x)),
                       atol=1e-8)
    assert activations.gelu(np.array([0.0]), approximate)[0] == 0.0
    assert math.isclose(activations.gelu(np.array([1.0]))[0], 0.5 * (1 + math.erf(1 / math.sqrt(2))), rel_tol=1e-15)
    assert np.allclose(activations.gelu(x, "tanh"), activations.gelu(x), atol=1e-3)  # the approximation is close


def test_relu_derivative():
    x = np.array([-2.0, -0.5, 0.5, 3.0])
    assert np.array_equal(activations.relu(x), [0, 0, 0.5, 3.0])
    assert np.array_equal(activations.relu_backward(x, np.ones(4)), [0, 0, 1, 1])


@given(rows=st.integers(1, 3), fan_in=st.integers(1, 4), fan_out=st.integers(1, 4), seed=st.integers(0, 999))
def test_linear_backward_matches_finite_differences(rows, fan_in, fan_out, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=(rows, fan_in)), rng.normal(size=(fan_out, fan_in)), rng.normal(size=fan_out)
    grad_y = rng.normal(size=(rows, fan_out))
    grad_x, grad_w, grad_b = linear.linear_backward(x, w, grad_y)
    assert np.allclose(grad_x, numerical_gradient(lambda t: linear.linear_forward(t, w, b), x, grad_y), atol=1e-7)
    assert np.allclose(grad_w, numerical_gradient(lambda t: linear.linear_forward(x, t, b), w, grad_y), atol=1e-7)
    assert np.allclose(grad_b, numerical_gradient(lambda t: linear.linear_forward(x, w, t), b, grad_y), atol=1e-7)


def test_embedding_backward_accumulates_repeated_ids():
    table = np.arange(12.0).reshape(4, 3)
    ids = np.array([[1, 3], [1, 0]])
    assert np.array_equal(linear.embedding_forward(ids, table)[0, 1], table[3])
    grad = linear.embedding_backward(ids, np.ones((2, 2, 3)), 4)
    assert np.array_equal(grad[:, 0], [1, 2, 0, 1])


@pytest.mark.parametrize("activation", ["gelu", "gelu_tanh", "relu"])
def test_feedforward_backward_matches_finite_differences(activation):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3))
    w1, b1, w2, b2 = rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=(3, 5)), rng.normal(size=3)
    grad_y = rng.normal(size=(2, 3))
    _, cache = feedforward.feedforward_forward(x, w1, b1, w2, b2, activation)
    grad_x, grad_w1, _, _, _ = feedforward.feedforward_backward(grad_y, cache)

    def forward_x(t):
        return feedforward.feedforward_forward(t, w1, b1, w2, b2, activation)[0]

    def forward_w1(t):
        return feedforward.feedforward_forward(x, t, b1, w2, b2, activation)[0]

    assert np.allclose(grad_x, numerical_gradient(forward_x, x, grad_y), atol=1e-6)
    assert np.allclose(grad_w1, numerical_gradient(forward_w1, w1, grad_y), atol=1e-6)

"""reference/conv.py and reference/pooling.py: backward vs central differences; im2col/col2im adjoint."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.reference import conv, pooling
from minitransformer.reference.numerical import numerical_gradient


@given(groups=st.integers(1, 2), kernel=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 1),
       dilation=st.integers(1, 2), seed=st.integers(0, 999))
def test_conv2d_backward_matches_finite_differences(groups, kernel, stride, padding, dilation, seed):
    rng = np.random.default_rng(seed)
    x, weight = rng.normal(size=(1, 2 * groups, 5, 4)), rng.normal(size=(2 * groups, 2, kernel, kernel))
    args = ((stride, stride), (padding, padding), (dilation, dilation), groups)
    y = conv.conv2d_forward(x, weight, None, *args)
    grad_y = rng.normal(size=y.shape)
    grad_x, grad_w, grad_b = conv.conv2d_backward(x, weight, grad_y, *args)
    assert np.allclose(grad_x, numerical_gradient(lambda t: conv.conv2d_forward(t, weight, None, *args), x, grad_y),
                       atol=1e-6)
    assert np.allclose(grad_w, numerical_gradient(lambda t: conv.conv2d_forward(x, t, None, *args), weight, grad_y),
                       atol=1e-6)
    assert np.allclose(grad_b, grad_y.sum(axis=(0, 2, 3)))


def test_conv2d_known_value():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    weight = np.ones((1, 1, 2, 2))
    y = conv.conv2d_forward(x, weight, np.array([1.0]))
    assert np.array_equal(y[0, 0], [[0 + 1 + 3 + 4 + 1, 1 + 2 + 4 + 5 + 1], [3 + 4 + 6 + 7 + 1, 4 + 5 + 7 + 8 + 1]])


def test_col2im_is_the_adjoint_of_im2col():
    rng = np.random.default_rng(0)
    geometry = ((3, 2), (2, 1), (1, 1), (1, 2))
    x = rng.normal(size=(2, 3, 6, 5))
    columns = conv.im2col(x, *geometry)
    other = rng.normal(size=columns.shape)
    assert np.isclose(np.sum(columns * other), np.sum(x * conv.col2im(other, x.shape, *geometry)))


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_backward_matches_finite_differences(kind):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 2, 5, 5))
    geometry = ((3, 3), (2, 2), (1, 1))
    forward = pooling.max_pool2d_forward if kind == "max" else pooling.avg_pool2d_forward
    backward = pooling.max_pool2d_backward if kind == "max" else pooling.avg_pool2d_backward
    y = forward(x, *geometry)
    grad_y = rng.normal(size=y.shape)
    assert np.allclose(backward(x, grad_y, *geometry), numerical_gradient(lambda t: forward(t, *geometry), x, grad_y),
                       atol=1e-6)

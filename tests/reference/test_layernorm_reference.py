"""reference/layernorm.py and reference/batchnorm.py: hand-written backward vs central differences."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.reference.batchnorm import batchnorm2d_backward, batchnorm2d_forward
from minitransformer.reference.layernorm import layernorm_backward, layernorm_forward
from minitransformer.reference.numerical import numerical_gradient


@given(rows=st.integers(1, 3), features=st.integers(1, 6), seed=st.integers(0, 999))
def test_layernorm_backward_matches_finite_differences(rows, features, seed):
    rng = np.random.default_rng(seed)
    x, gamma, beta = rng.normal(size=(rows, features)), rng.normal(size=features), rng.normal(size=features)
    grad_y = rng.normal(size=(rows, features))
    _, cache = layernorm_forward(x, gamma, beta)
    grad_x, grad_gamma, grad_beta = layernorm_backward(grad_y, cache)
    assert np.allclose(grad_x, numerical_gradient(lambda t: layernorm_forward(t, gamma, beta)[0], x, grad_y), atol=1e-6)
    assert np.allclose(grad_gamma, numerical_gradient(lambda g: layernorm_forward(x, g, beta)[0], gamma, grad_y),
                       atol=1e-6)
    assert np.allclose(grad_beta, numerical_gradient(lambda b: layernorm_forward(x, gamma, b)[0], beta, grad_y),
                       atol=1e-6)


def test_layernorm_output_is_normalised():
    x = np.random.default_rng(0).normal(3.0, 5.0, size=(4, 32))
    y, _ = layernorm_forward(x, np.ones(32), np.zeros(32), eps=0.0)
    assert np.allclose(y.mean(axis=-1), 0.0) and np.allclose(y.var(axis=-1), 1.0)


@given(batch=st.integers(1, 3), channels=st.integers(1, 3), size=st.integers(1, 3), seed=st.integers(0, 999))
def test_batchnorm_backward_matches_finite_differences(batch, channels, size, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch + 1, channels, size, size))
    gamma, beta = rng.normal(size=channels), rng.normal(size=channels)
    grad_y = rng.normal(size=x.shape)
    _, cache, (mean, unbiased_var) = batchnorm2d_forward(x, gamma, beta)
    grad_x, grad_gamma, grad_beta = batchnorm2d_backward(grad_y, cache)
    assert np.allclose(grad_x, numerical_gradient(lambda t: batchnorm2d_forward(t, gamma, beta)[0], x, grad_y),
                       atol=1e-5)
    assert np.allclose(grad_gamma, numerical_gradient(lambda g: batchnorm2d_forward(x, g, beta)[0], gamma, grad_y),
                       atol=1e-6)
    assert np.allclose(grad_beta, grad_y.sum(axis=(0, 2, 3)))
    assert np.allclose(mean, x.mean(axis=(0, 2, 3)))
    assert np.allclose(unbiased_var, x.transpose(1, 0, 2, 3).reshape(channels, -1).var(axis=1, ddof=1))

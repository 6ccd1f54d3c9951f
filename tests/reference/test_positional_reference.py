"""reference/positional.py: RoPE backward vs central differences, rotation and shift properties."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.reference import positional
from minitransformer.reference.numerical import numerical_gradient


@given(length=st.integers(1, 4), half=st.integers(1, 3), offset=st.integers(0, 9), seed=st.integers(0, 999))
def test_rope_backward_matches_finite_differences(length, half, offset, seed):
    rng = np.random.default_rng(seed)
    x, grad_y = rng.normal(size=(2, length, 2 * half)), rng.normal(size=(2, length, 2 * half))
    positions = np.arange(offset, offset + length)
    expected = numerical_gradient(lambda t: positional.rotary_forward(t, positions), x, grad_y)
    assert np.allclose(positional.rotary_backward(grad_y, positions), expected, atol=1e-8)


def test_rope_at_position_zero_is_identity_and_norm_preserving():
    x = np.random.default_rng(0).normal(size=(5, 8))
    assert np.allclose(positional.rotary_forward(x[:1], [0]), x[:1])
    rotated = positional.rotary_forward(x, np.arange(5))
    assert np.allclose(np.linalg.norm(rotated, axis=-1), np.linalg.norm(x, axis=-1))


def test_shift_matrix_is_orthogonal_and_composes():
    r3, r4, r7 = (positional.sinusoidal_shift_matrix(k, 6) for k in (3, 4, 7))
    assert np.allclose(r3 @ r3.T, np.eye(6))
    assert np.allclose(r3 @ r4, r7)

"""Positional encodings: the sinusoid's formula and relative-position property, learned table, RoPE's
offset-only dot products, vs the NumPy reference, gradcheck and bad input."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import nn as mnn
from minitransformer.nn.positional import apply_rotary, rotary_angles
from minitransformer.reference import positional as ref
from helpers import relative_error, to_numpy

even_dims = st.integers(1, 16).map(lambda half: 2 * half)


@given(length=st.integers(1, 64), d_model=even_dims)
def test_sinusoidal_table_is_the_formula_and_bounded(length, d_model):
    table = mnn.sinusoidal_table(length, d_model)
    pos, i = length - 1, (d_model // 2) - 1
    assert math.isclose(table[pos, 2 * i].item(), math.sin(pos / 10000 ** (2 * i / d_model)), abs_tol=1e-6)
    assert math.isclose(table[pos, 2 * i + 1].item(), math.cos(pos / 10000 ** (2 * i / d_model)), abs_tol=1e-6)
    assert table.abs().max() <= 1.0
    assert relative_error(table, ref.sinusoidal_table(length, d_model)) < 1e-6


@given(offset=st.integers(0, 50), d_model=even_dims)
def test_sinusoid_shift_is_a_fixed_linear_map(offset, d_model):
    table = ref.sinusoidal_table(100, d_model)
    shift = ref.sinusoidal_shift_matrix(offset, d_model)  # the same matrix for every position
    shifted = table[: 100 - offset] @ shift.T
    assert np.allclose(shifted, table[offset:], atol=1e-10)
    ours = to_numpy(mnn.sinusoidal_table(100, d_model))
    assert np.allclose(ours[: 100 - offset] @ shift.T, ours[offset:], atol=1e-5)


@given(m=st.integers(0, 100), n=st.integers(0, 100), shift=st.integers(0, 100), seed=st.integers(0, 2**16))
def test_rope_dot_products_depend_only_on_the_offset(m, n, shift, seed):
    rope = mnn.RotaryEmbedding(8).double()
    generator = torch.Generator().manual_seed(seed)
    q, k = torch.randn(8, generator=generator, dtype=torch.float64), torch.randn(8, generator=generator,
                                                                                  dtype=torch.float64)

    def rotated_at(vector, position):
        return rope(vector.expand(1, 1, 1, 8), offset=position)[0, 0, 0]

    score = rotated_at(q, m) @ rotated_at(k, n)
    shifted_score = rotated_at(q, m + shift) @ rotated_at(k, n + shift)
    assert math.isclose(score.item(), shifted_score.item(), rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(rotated_at(q, m).norm().item(), q.norm().item(), rel_tol=1e-12)  # a rotation


@given(length=st.integers(1, 8), head_dim=even_dims, offset=st.integers(0, 20), seed=st.integers(0, 99))
def test_rope_matches_numpy_forward_and_backward(length, head_dim, offset, seed):
    torch.manual_seed(seed)
    x = torch.randn(2, 3, length, head_dim, dtype=torch.float64, requires_grad=True)
    y = mnn.RotaryEmbedding(head_dim)(x, offset=offset)
    grad = torch.randn_like(y)
    y.backward(grad)
    positions = np.arange(offset, offset + length)
    assert relative_error(y, ref.rotary_forward(to_numpy(x), positions)) < 1e-12
    assert relative_error(x.grad, ref.rotary_backward(to_numpy(grad), positions)) < 1e-12


def test_learned_positional_embedding_adds_rows_and_learns():
    torch.manual_seed(0)
    embedding = mnn.LearnedPositionalEmbedding(10, 4)
    x = torch.zeros(2, 3, 4)
    assert torch.equal(embedding(x)[1], embedding.weight[:3])
    embedding(x).sum().backward()
    assert torch.equal(embedding.weight.grad[:3], torch.full((3, 4), 2.0))
    assert torch.count_nonzero(embedding.weight.grad[3:]) == 0


def test_gradcheck_rope():
    x = torch.randn(1, 2, 3, 4, dtype=torch.float64, requires_grad=True)
    angles = rotary_angles(torch.arange(3), 4)
    assert torch.autograd.gradcheck(lambda t: apply_rotary(t, angles), (x,))


@pytest.mark.parametrize("call, argument", [
    (lambda: mnn.sinusoidal_table(4, 5), "d_model"),
    (lambda: mnn.RotaryEmbedding(3), "head_dim"),
    (lambda: mnn.SinusoidalPositionalEncoding(4, max_len=2)(torch.zeros(1, 3, 4)), "max_len"),
    (lambda: mnn.LearnedPositionalEmbedding(5, 4)(torch.zeros(1, 3, 5)), "x"),
    (lambda: mnn.RotaryEmbedding(4)(torch.zeros(1, 3, 6)), "x"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()

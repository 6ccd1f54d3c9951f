"""The counter-based dropout reference: Philox4x32-10 against the published known-answer vectors, the
mask's statistics, and the backward against autograd."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from minitransformer.reference.dropout import (dropout_backward, dropout_bits, dropout_forward, dropout_mask,
                                               keep_threshold, philox4x32)

# Random123's kat_vectors (Salmon et al. 2011): counter (4 words), key (2 words) -> 4 words.
KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_philox_matches_the_known_answers(counter, key, expected):
    assert tuple(int(word) for word in philox4x32(counter, key)) == expected


def test_element_words_follow_the_documented_counter_layout():
    seed, offset = 0x0123456789ABCDEF, (5 << 32) + 7
    bits = dropout_bits(10, seed, offset)
    for i in range(10):
        counter = (i // 4, 0, offset & 0xFFFFFFFF, offset >> 32)
        words = philox4x32(counter, (seed & 0xFFFFFFFF, seed >> 32))
        assert int(bits[i]) == int(words[i % 4])


def test_mask_is_a_pure_function_of_seed_offset_and_index():
    mask = dropout_mask((37, 5), 0.3, seed=7, offset=11)
    np.testing.assert_array_equal(mask, dropout_mask((37, 5), 0.3, seed=7, offset=11))
    np.testing.assert_array_equal(mask.reshape(-1)[:100], dropout_mask((100,), 0.3, seed=7, offset=11))
    assert (mask != dropout_mask((37, 5), 0.3, seed=8, offset=11)).any()
    assert (mask != dropout_mask((37, 5), 0.3, seed=7, offset=12)).any()


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_fraction_and_independence_are_within_statistical_bounds(p):
    n = 200_000
    mask = dropout_mask((n,), p, seed=3, offset=0).astype(np.float64)
    keep = 1.0 - p
    assert abs(mask.mean() - keep) < 5 * np.sqrt(keep * p / n)  # 5 standard errors
    for lag in (1, 2, 3, 4, 5):  # within a Philox call (lags 1-3) and across calls (4, 5)
        correlation = np.corrcoef(mask[:-lag], mask[lag:])[0, 1]
        assert abs(correlation) < 5 / np.sqrt(n)


def test_edge_probabilities():
    x = np.random.default_rng(0).standard_normal((3, 7))
    np.testing.assert_array_equal(dropout_forward(x, 0.0, 1, 2)[0], x)
    np.testing.assert_array_equal(dropout_forward(x, 1.0, 1, 2)[0], np.zeros_like(x))
    assert keep_threshold(0.0) == 2 ** 32 and keep_threshold(1.0) == 0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        keep_threshold(1.5)
    with pytest.raises(ValueError, match="seed"):
        dropout_bits(4, -1, 0)
    with pytest.raises(ValueError, match="offset"):
        dropout_bits(4, 0, 2 ** 64)


@settings(deadline=None, max_examples=25)
@given(rows=st.integers(1, 9), cols=st.integers(1, 13), p=st.floats(0.0, 0.95), seed=st.integers(0, 2 ** 64 - 1),
       offset=st.integers(0, 2 ** 64 - 1))
def test_forward_and_backward_match_autograd(rows, cols, p, seed, offset):
    rng = np.random.default_rng(rows * 100 + cols)
    x, grad_y = rng.standard_normal((2, rows, cols))
    y, mask = dropout_forward(x, p, seed, offset)
    x_torch = torch.tensor(x, requires_grad=True)
    y_torch = x_torch * torch.tensor(mask) / (1.0 - p)
    y_torch.backward(torch.tensor(grad_y))
    np.testing.assert_allclose(y, y_torch.detach().numpy(), rtol=1e-15, atol=0)
    np.testing.assert_allclose(dropout_backward(grad_y, p, seed, offset), x_torch.grad.numpy(), rtol=1e-15, atol=0)

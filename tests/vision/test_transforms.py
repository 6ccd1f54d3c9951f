"""Transforms: conversion to float, resizing, normalisation and random shifts (checked against a plain
loop that shifts each image by the offset it drew)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.data.images.transforms import Compose, Normalize, RandomShift, fit_to_size, to_float_batch


def test_to_float_batch_scales_and_adds_the_channel():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    x = to_float_batch(images)
    assert x.shape == (1, 1, 2, 2) and x.dtype == torch.float32
    torch.testing.assert_close(x[0, 0], torch.tensor([[0.0, 1.0], [0.2, 0.4]]))
    with pytest.raises(ValueError, match="images must be"):
        to_float_batch(images.astype(np.float32))


def test_fit_to_size_upscales_8x8_to_24_and_pads_to_28():
    x = torch.arange(64, dtype=torch.float32).reshape(1, 1, 8, 8)
    out = fit_to_size(x, 28)
    assert out.shape == (1, 1, 28, 28)
    torch.testing.assert_close(out[0, 0, 2:26, 2:26][::3, ::3], x[0, 0])
    assert out[0, 0, :2].abs().sum() == 0 and out[0, 0, :, 26:].abs().sum() == 0
    with pytest.raises(ValueError, match="smaller than the images"):
        fit_to_size(x, 7)


def test_normalize_fitted_gives_zero_mean_unit_std():
    x = torch.rand(16, 1, 5, 5) * 3 + 2
    normalize = Normalize.fitted_to(x)
    y = normalize(x)
    assert abs(y.mean().item()) < 1e-5 and abs(y.std().item() - 1) < 1e-5
    with pytest.raises(ValueError, match="std must be positive"):
        Normalize(0.0, 0.0)


@given(n=st.integers(1, 5), channels=st.integers(1, 2), height=st.integers(1, 9), width=st.integers(1, 9),
       max_shift=st.integers(0, 4), seed=st.integers(0, 2**16))
def test_random_shift_matches_a_per_image_loop(n, channels, height, width, max_shift, seed):
    x = torch.randn(n, channels, height, width, generator=torch.Generator().manual_seed(seed))
    out = RandomShift(max_shift, fill=-7.0, generator=torch.Generator().manual_seed(seed))(x)
    # Draw the same offsets again and shift by hand.
    replay = torch.Generator().manual_seed(seed)
    top = torch.randint(0, 2 * max_shift + 1, (n,), generator=replay) if max_shift else torch.full((n,), 0)
    left = torch.randint(0, 2 * max_shift + 1, (n,), generator=replay) if max_shift else torch.full((n,), 0)
    expected = torch.full_like(x, -7.0)
    for i in range(n):
        dy, dx = max_shift - int(top[i]), max_shift - int(left[i])  # content moves by (dy, dx)
        for r in range(height):
            for c in range(width):
                if 0 <= r - dy < height and 0 <= c - dx < width:
                    expected[i, :, r, c] = x[i, :, r - dy, c - dx]
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


def test_random_shift_moves_images_independently():
    x = torch.zeros(64, 1, 9, 9)
    x[:, :, 4, 4] = 1.0
    out = RandomShift(2, generator=torch.Generator().manual_seed(0))(x)
    positions = {tuple(torch.nonzero(img[0])[0].tolist()) for img in out}
    assert len(positions) > 10 and all(2 <= r <= 6 and 2 <= c <= 6 for r, c in positions)
    assert out.sum() == 64  # nothing fell off: a shift of 2 keeps the centre pixel inside


@pytest.mark.parametrize("max_shift", [-1, 1.5, "2"])
def test_random_shift_rejects_bad_shift(max_shift):
    with pytest.raises(ValueError, match="max_shift must be"):
        RandomShift(max_shift)


def test_compose_applies_in_order():
    x = torch.full((1, 1, 2, 2), 3.0)
    torch.testing.assert_close(Compose([Normalize(1.0, 2.0), Normalize(0.0, 0.5)])(x), torch.full_like(x, 2.0))

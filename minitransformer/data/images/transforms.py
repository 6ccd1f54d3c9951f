"""Small image transforms on batches: uint8 -> float, resizing to 28x28, normalisation, random shifts.

* ``to_float_batch``: (N, H, W) uint8 in 0..255  ->  (N, 1, H, W) float32 in [0, 1].
* ``fit_to_size``: nearest-neighbour upscaling by the largest integer factor that fits, then zero
  padding to the centre (used to show 8x8 digits to a model trained on 28x28 images).
* ``Normalize``: x' = (x - mean) / std, with mean and std measured on the training images.
* ``RandomShift``: the "random crop with padding" augmentation (He et al. 2016, after Krizhevsky et
  al. 2012): pad by s pixels of zeros and cut a window of the original size at a random offset, i.e.
  translate every image independently by (dy, dx) in [-s, s]^2.
* ``Compose``: apply transforms in order.
"""

import numpy as np
import torch


def to_float_batch(images) -> torch.Tensor:
    """(N, H, W) uint8 images -> (N, 1, H, W) float32 in [0, 1]."""
    images = torch.as_tensor(np.asarray(images))
    if images.ndim != 3 or images.dtype != torch.uint8:
        raise ValueError(f"images must be (N, H, W) uint8, got {tuple(images.shape)} {images.dtype}")
    return images.unsqueeze(1).to(torch.float32) / 255.0  # (N, 1, H, W)


def fit_to_size(x: torch.Tensor, size: int) -> torch.Tensor:
    """Upscale (N, C, h, w) by the largest integer factor k with k*h, k*w <= size, then zero-pad to size."""
    if x.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W), got shape {tuple(x.shape)}")
    height, width = x.shape[-2:]
    if height > size or width > size:
        raise ValueError(f"size {size} is smaller than the images ({height}x{width})")
    factor = min(size // height, size // width)
    x = x.repeat_interleave(factor, dim=-2).repeat_interleave(factor, dim=-1)  # (N, C, k*h, k*w)
    top, left = (size - factor * height) // 2, (size - factor * width) // 2
    out = x.new_zeros(*x.shape[:2], size, size)
    out[..., top:top + factor * height, left:left + factor * width] = x
    return out


class Normalize:
    """x' = (x - mean) / std (one mean and std for the single grey channel)."""

    def __init__(self, mean: float, std: float):
        if not std > 0:
            raise ValueError(f"std must be positive, got {std}")
        self.mean, self.std = float(mean), float(std)

    @classmethod
    def fitted_to(cls, x: torch.Tensor) -> "Normalize":
        """The normalisation that gives ``x`` mean 0 and standard deviation 1."""
        return cls(x.mean().item(), x.std().item())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def __repr__(self):
        return f"Normalize(mean={self.mean:.4f}, std={self.std:.4f})"


class RandomShift:
    """Translate each image of (N, C, H, W) by its own random (dy, dx) in [-max_shift, max_shift]^2,
    filling the uncovered border with ``fill`` (pad-then-random-crop)."""

    def __init__(self, max_shift: int, fill: float = 0.0, generator: torch.Generator = None):
        if not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative int, got {max_shift!r}")
        self.max_shift, self.fill, self.generator = max_shift, fill, generator

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"x must be (N, C, H, W), got shape {tuple(x.shape)}")
        if self.max_shift == 0:
            return x
        n, _, height, width = x.shape
        s = self.max_shift
        padded = torch.nn.functional.pad(x, (s, s, s, s), value=self.fill)  # (N, C, H+2s, W+2s)
        # The window's top-left corner in the padded image; s means "no shift".
        top = torch.randint(0, 2 * s + 1, (n,), generator=self.generator)
        left = torch.randint(0, 2 * s + 1, (n,), generator=self.generator)
        rows = (top[:, None] + torch.arange(height))[:, None, :, None]    # (N, 1, H, 1)
        cols = (left[:, None] + torch.arange(width))[:, None, None, :]    # (N, 1, 1, W)
        batch = torch.arange(n)[:, None, None, None]                       # (N, 1, 1, 1)
        channel = torch.arange(x.shape[1])[None, :, None, None]            # (1, C, 1, 1)
        return padded[batch, channel, rows, cols]                          # (N, C, H, W)

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift})"


class Compose:
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for transform in self.transforms:
            x = transform(x)
        return x

    def __repr__(self):
        return f"Compose({self.transforms})"

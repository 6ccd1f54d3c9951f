"""Layer normalisation (Ba, Kiros & Hinton 2016, "Layer Normalization", arXiv:1607.06450).

Over the last dimension(s) of size D:

    mu = mean(x),   var = mean((x - mu)^2)   (biased),   y = (x - mu) / sqrt(var + eps) * gamma + beta
"""

import torch
from torch import nn

from minitransformer.nn._checks import check_tensor


class LayerNorm(nn.Module):
    """Normalise over ``normalized_shape`` (the trailing dims); names match ``torch.nn.LayerNorm``."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        if not self.normalized_shape or any(not isinstance(s, int) or s <= 0 for s in self.normalized_shape):
            raise ValueError(f"normalized_shape must be positive int(s), got {normalized_shape!r}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape)) if elementwise_affine else None
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape)) if elementwise_affine and bias else None

    def forward(self, x):
        check_tensor("x", x, min_ndim=len(self.normalized_shape))
        if tuple(x.shape[-len(self.normalized_shape):]) != self.normalized_shape:
            raise ValueError(f"x must end with normalized_shape {self.normalized_shape}, got shape {tuple(x.shape)}")
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)  # biased, as in the paper
        y = (x - mean) * torch.rsqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}"

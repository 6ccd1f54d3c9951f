"""Layer normalisation (Ba, Kiros & Hinton 2016, "Layer Normalization", arXiv:1607.06450).

Over the last dimension(s) of size D:

    mu = mean(x),   var = mean((x - mu)^2)   (biased),   y = (x - mu) / sqrt(var + eps) * gamma + beta

``backend`` (nn/backends.py): "eager" computes the line above in torch ops (the teaching path), "torch" calls
``F.layer_norm``, "fused" our C++ op (``minitransformer.ops.layer_norm``: one pass per row each way; one
normalised dimension).
"""

import torch
import torch.nn.functional as F
from torch import nn

from minitransformer.nn._checks import check_tensor
from minitransformer.nn.backends import load_fused_op, on_device, resolve_backend


class LayerNorm(nn.Module):
    """Normalise over ``normalized_shape`` (the trailing dims); names match ``torch.nn.LayerNorm``."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, backend="eager"):
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
        self.backend = resolve_backend(backend)
        if self.backend == "fused" and len(self.normalized_shape) != 1:
            raise ValueError(f"backend='fused' normalises one dimension, got normalized_shape={self.normalized_shape}")

    def forward(self, x):
        check_tensor("x", x, min_ndim=len(self.normalized_shape))
        if tuple(x.shape[-len(self.normalized_shape):]) != self.normalized_shape:
            raise ValueError(f"x must end with normalized_shape {self.normalized_shape}, got shape {tuple(x.shape)}")
        backend = on_device(self.backend, x)
        if backend == "fused":  # a missing weight or bias is the identity: ones, zeros
            weight = self.weight if self.weight is not None else x.new_ones(self.normalized_shape)
            bias = self.bias if self.bias is not None else x.new_zeros(self.normalized_shape)
            return load_fused_op("layer_norm")(x, weight, bias, self.eps)
        if backend == "torch":
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
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
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}, "
                f"backend={self.backend}")

"""Activation functions.

GELU (Hendrycks & Gimpel 2016, "Gaussian Error Linear Units", arXiv:1606.08415):

    gelu(x) = x * Phi(x) = x/2 * (1 + erf(x / sqrt(2)))                                  (exact)
    gelu(x) ~ x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))                           ("tanh")

ReLU: relu(x) = max(x, 0).
"""

import math

import torch
from torch import nn


def gelu(x, approximate="none"):
    """GELU of ``x``; ``approximate`` is "none" (erf form, BERT's) or "tanh" (GPT-2's)."""
    if approximate == "none":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def relu(x):
    """max(x, 0) elementwise."""
    return torch.where(x > 0, x, torch.zeros_like(x))


class GELU(nn.Module):
    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class ReLU(nn.Module):
    def forward(self, x):
        return relu(x)


ACTIVATIONS = {"gelu": GELU, "gelu_tanh": lambda: GELU("tanh"), "relu": ReLU}


def make_activation(name):
    """An activation module by name: "gelu", "gelu_tanh" or "relu"."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()

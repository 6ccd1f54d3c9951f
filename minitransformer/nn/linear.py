"""Linear (fully connected) layer: y = x W^T + b.

    x: (..., in_features),  W: (out_features, in_features),  b: (out_features,)  ->  y: (..., out_features)

Initialisation as PyTorch's ``nn.Linear`` (He et al. 2015's uniform variant with a = sqrt(5)):
W, b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).

``backend`` (nn/backends.py): "eager" computes x @ W^T, then adds b; "torch" calls ``F.linear``, one matrix
product that adds b as it writes y (and sums db in one pass in the backward); "fused" calls
``minitransformer.ops.linear``, the same contract with y and dx computed by oneDNN, PyTorch's other CPU GEMM
library, measured faster than its default (MKL) on our machines (ops/linear.py). The project has no
matrix-product kernel of its own: on the CPU PyTorch's BLAS libraries are the ones to beat, not to re-write.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from minitransformer.nn._checks import check_positive_int, check_tensor
from minitransformer.nn.backends import load_fused_op, resolve_backend


def linear(x, weight, bias=None, backend="eager"):
    """x @ weight.T + bias (x: (..., in), weight: (out, in), bias: (out,) or None) on ``backend``: the one
    place the two forms live, for ``Linear`` and for heads tied to an embedding matrix."""
    if backend == "fused":
        return load_fused_op("linear")(x, weight, bias)  # (..., out_features)
    if backend == "torch":
        return F.linear(x, weight, bias)  # (..., out_features)
    y = x @ weight.T  # (..., out_features)
    return y + bias if bias is not None else y


class Linear(nn.Module):
    """y = x @ weight.T + bias; parameter names and shapes match ``torch.nn.Linear``."""

    def __init__(self, in_features, out_features, bias=True, backend="eager"):
        super().__init__()
        self.backend = resolve_backend(backend)
        check_positive_int("in_features", in_features)
        check_positive_int("out_features", out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.in_features)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def forward(self, x):
        check_tensor("x", x, min_ndim=1, last_dim=self.in_features)
        return linear(x, self.weight, self.bias, self.backend)  # (..., out_features)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, backend={self.backend}"

"""Dropout (Srivastava et al. 2014, "Dropout: A Simple Way to Prevent Neural Networks from Overfitting").

Inverted dropout, in training only: keep each element with probability 1 - p and rescale the kept ones,

    y = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)

so E[y] = x and evaluation is the identity.

``backend`` (nn/backends.py): "eager" draws the mask with ``torch.rand_like`` (the line above in torch ops),
"torch" calls ``F.dropout``, "fused" our C++ op (``minitransformer.ops.dropout_add``: a counter-based mask
that the backward recomputes instead of storing). ``add_to(residual, x)`` = residual + dropout(x), the
residual connection's add, in the same pass under "fused".
"""

import torch
import torch.nn.functional as F
from torch import nn

from minitransformer.nn._checks import check_probability
from minitransformer.nn.backends import load_fused_op, on_device, resolve_backend


def dropout(x, p, training=True):
    """Inverted dropout of ``x`` with drop probability ``p`` (identity when not training or p == 0)."""
    check_probability("p", p)
    if not training or p == 0.0:
        return x
    keep = torch.rand_like(x) >= p  # Bernoulli(1 - p)
    return x * keep / (1.0 - p)


class Dropout(nn.Module):
    def __init__(self, p=0.1, backend="eager"):
        super().__init__()
        check_probability("p", p)
        self.p = p
        self.backend = resolve_backend(backend)

    def forward(self, x):
        backend = on_device(self.backend, x)
        if backend == "fused":
            return load_fused_op("dropout_add")(x, None, self.p, self.training)
        if backend == "torch":
            return F.dropout(x, self.p, self.training)
        return dropout(x, self.p, self.training)

    def add_to(self, residual, x):
        """residual + dropout(x): a residual connection's add."""
        if on_device(self.backend, x) == "fused":
            return load_fused_op("dropout_add")(x, residual, self.p, self.training)
        return residual + self(x)

    def extra_repr(self):
        return f"p={self.p}, backend={self.backend}"

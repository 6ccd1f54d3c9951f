"""Dropout (Srivastava et al. 2014, "Dropout: A Simple Way to Prevent Neural Networks from Overfitting").

Inverted dropout, in training only: keep each element with probability 1 - p and rescale the kept ones,

    y = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)

so E[y] = x and evaluation is the identity.
"""

import torch
from torch import nn

from minitransformer.nn._checks import check_probability


def dropout(x, p, training=True):
    """Inverted dropout of ``x`` with drop probability ``p`` (identity when not training or p == 0)."""
    check_probability("p", p)
    if not training or p == 0.0:
        return x
    keep = torch.rand_like(x) >= p  # Bernoulli(1 - p)
    return x * keep / (1.0 - p)


class Dropout(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        check_probability("p", p)
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"

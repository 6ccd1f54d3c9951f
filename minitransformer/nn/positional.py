"""Position information for attention, which by itself is blind to order.

Sinusoidal (Vaswani et al. 2017, "Attention Is All You Need", section 3.5), added to the embeddings:

    PE(pos, 2i) = sin(pos / 10000^(2i/d)),    PE(pos, 2i+1) = cos(pos / 10000^(2i/d))

For every offset k, PE(pos + k) = R_k PE(pos) with R_k block-diagonal 2x2 rotations by k * w_i.

Learned absolute (BERT, GPT): a trainable (max_len, d) table, row ``pos`` added to position ``pos``.

Rotary, RoPE (Su et al. 2021, "RoFormer", arXiv:2104.09864, eq. 13-15): rotate each pair of features
(x_2i, x_2i+1) of a query or key at position m by the angle m * theta_i, theta_i = base^(-2i/D):

    (x_2i, x_2i+1) -> (x_2i cos m theta_i - x_2i+1 sin m theta_i,  x_2i sin m theta_i + x_2i+1 cos m theta_i)

so the score q_m . k_n = Re[sum_i q_i conj(k_i) e^{i (m - n) theta_i}] depends on m - n only.
"""


import torch
from torch import nn

from minitransformer.nn._checks import check_positive_int, check_tensor


def sinusoidal_table(length, d_model, base=10000.0):
    """PE (length, d_model): sin on even features, cos on odd ones; d_model must be even."""
    check_positive_int("length", length)
    check_positive_int("d_model", d_model)
    if d_model % 2:
        raise ValueError(f"d_model must be even for sinusoidal encodings, got {d_model}")
    positions = torch.arange(length, dtype=torch.float64)[:, None]  # (L, 1)
    frequencies = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d/2,)
    angles = positions * frequencies  # (L, d/2)
    table = torch.stack((torch.sin(angles), torch.cos(angles)), dim=-1)  # (L, d/2, 2)
    return table.reshape(length, d_model).float()


class SinusoidalPositionalEncoding(nn.Module):
    """x (B, N, d_model) -> x + PE[:N]; a fixed buffer, no parameters."""

    def __init__(self, d_model, max_len=5000):
        super().__init__()
        self.d_model, self.max_len = d_model, max_len
        self.register_buffer("table", sinusoidal_table(max_len, d_model), persistent=False)

    def forward(self, x):
        check_tensor("x", x, ndim=3, last_dim=self.d_model)
        if x.shape[1] > self.max_len:
            raise ValueError(f"x has {x.shape[1]} positions, more than max_len={self.max_len}")
        return x + self.table[: x.shape[1]].to(x.dtype)


class LearnedPositionalEmbedding(nn.Module):
    """x (B, N, d_model) -> x + P[:N], P a trainable (max_len, d_model) table initialised N(0, 0.02^2)."""

    def __init__(self, max_len, d_model, init_std=0.02):
        super().__init__()
        check_positive_int("max_len", max_len)
        check_positive_int("d_model", d_model)
        self.max_len, self.d_model = max_len, d_model
        self.weight = nn.Parameter(torch.randn(max_len, d_model) * init_std)

    def forward(self, x):
        check_tensor("x", x, ndim=3, last_dim=self.d_model)
        if x.shape[1] > self.max_len:
            raise ValueError(f"x has {x.shape[1]} positions, more than max_len={self.max_len}")
        return x + self.weight[: x.shape[1]]


def rotary_angles(positions, head_dim, base=10000.0):
    """m * theta_i for each position m and pair i: (N, head_dim / 2)."""
    frequencies = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64, device=positions.device) / head_dim)
    return positions.to(torch.float64)[:, None] * frequencies


def apply_rotary(x, angles):
    """Rotate the feature pairs (2i, 2i+1) of x (..., N, D) by angles (N, D/2)."""
    cos, sin = torch.cos(angles).to(x.dtype), torch.sin(angles).to(x.dtype)  # (N, D/2)
    pairs = x.unflatten(-1, (-1, 2))  # (..., N, D/2, 2)
    even, odd = pairs[..., 0], pairs[..., 1]
    rotated = torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1)
    return rotated.flatten(-2)  # (..., N, D)


class RotaryEmbedding(nn.Module):
    """RoPE on x (B, H, N, head_dim): position m = offset + index along N."""

    def __init__(self, head_dim, base=10000.0):
        super().__init__()
        check_positive_int("head_dim", head_dim)
        if head_dim % 2:
            raise ValueError(f"head_dim must be even for rotary embeddings, got {head_dim}")
        if not base > 1:
            raise ValueError(f"base must be greater than 1, got {base!r}")
        self.head_dim, self.base = head_dim, base

    def forward(self, x, offset=0):
        check_tensor("x", x, min_ndim=2, last_dim=self.head_dim)
        positions = torch.arange(offset, offset + x.shape[-2], device=x.device)
        return apply_rotary(x, rotary_angles(positions, self.head_dim, self.base))

    def extra_repr(self):
        return f"head_dim={self.head_dim}, base={self.base}"


__all__ = ["sinusoidal_table", "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding",
           "rotary_angles", "apply_rotary", "RotaryEmbedding"]

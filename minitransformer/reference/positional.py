"""Positional encodings in NumPy float64: the sinusoidal table (Vaswani et al. 2017, section 3.5), its
relative-position rotation, and rotary embeddings (Su et al. 2021, RoFormer) forward and backward.

    PE(pos, 2i) = sin(pos w_i),  PE(pos, 2i+1) = cos(pos w_i),   w_i = 10000^(-2i/d)
    PE(pos + k) = R_k PE(pos),   R_k = blockdiag([[cos k w_i, sin k w_i], [-sin k w_i, cos k w_i]])
    RoPE: pair i of a vector at position m rotated by m theta_i, theta_i = base^(-2i/D); the backward
    of a rotation is the rotation by the opposite angle.
"""

import numpy as np


def sinusoidal_table(length, d_model, base=10000.0):
    angles = np.arange(length)[:, None] * base ** (-np.arange(0, d_model, 2) / d_model)  # (L, d/2)
    table = np.empty((length, d_model))
    table[:, 0::2], table[:, 1::2] = np.sin(angles), np.cos(angles)
    return table


def sinusoidal_shift_matrix(offset, d_model, base=10000.0):
    """R_k (d, d) with PE(pos + k) = R_k @ PE(pos) for every pos."""
    angles = offset * base ** (-np.arange(0, d_model, 2) / d_model)
    matrix = np.zeros((d_model, d_model))
    for i, angle in enumerate(angles):  # sin(a + b) = sin a cos b + cos a sin b; cos(a + b) = cos a cos b - sin a sin b
        matrix[2 * i: 2 * i + 2, 2 * i: 2 * i + 2] = [[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]]
    return matrix


def rotary_forward(x, positions, base=10000.0, sign=1.0):
    """Rotate the pairs (2i, 2i+1) of x (..., N, D) by sign * positions[n] * theta_i."""
    x = np.asarray(x, dtype=np.float64)
    head_dim = x.shape[-1]
    angles = sign * np.asarray(positions, dtype=np.float64)[:, None] * base ** (-np.arange(0, head_dim, 2) / head_dim)
    cos, sin = np.cos(angles), np.sin(angles)  # (N, D/2)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = even * cos - odd * sin, even * sin + odd * cos
    return out


def rotary_backward(grad_y, positions, base=10000.0):
    """The transpose of a rotation is the rotation by minus the angle."""
    return rotary_forward(grad_y, positions, base, sign=-1.0)

"""Softmax and its backward in NumPy float64.

Forward, along ``axis``:

    y_i = exp(x_i - m) / sum_j exp(x_j - m),    m = max_j x_j

(subtracting the row max m changes nothing mathematically and keeps exp from overflowing).

Backward (the Jacobian-vector product): the Jacobian is dy_i/dx_k = y_i (delta_ik - y_k), so for an
upstream gradient g = dL/dy,

    dL/dx_k = sum_i g_i y_i (delta_ik - y_k) = y_k (g_k - sum_i g_i y_i).

A row whose entries are all -inf has no distribution; its output (and gradient) is defined as zeros.
"""

import numpy as np


def softmax(x, axis=-1):
    """Softmax of ``x`` along ``axis`` in float64; rows of all -inf give zeros."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return np.zeros_like(x)
    row_max = np.max(x, axis=axis, keepdims=True)
    row_max = np.where(np.isneginf(row_max), 0.0, row_max)  # all -inf row: exp(-inf - 0) = 0
    exps = np.exp(x - row_max)
    row_sum = np.sum(exps, axis=axis, keepdims=True)
    return np.divide(exps, row_sum, out=np.zeros_like(exps), where=row_sum > 0)


def softmax_backward(y, grad_y, axis=-1):
    """dL/dx = y * (g - sum(g * y)) along ``axis``, with y the softmax output and g = dL/dy."""
    y = np.asarray(y, dtype=np.float64)
    grad_y = np.asarray(grad_y, dtype=np.float64)
    if y.shape != grad_y.shape:
        raise ValueError(f"y and grad_y must have the same shape, got {y.shape} and {grad_y.shape}")
    dot = np.sum(y * grad_y, axis=axis, keepdims=True)
    return y * (grad_y - dot)

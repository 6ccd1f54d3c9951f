"""Layer normalisation over the last axis, forward and backward, in NumPy float64 (Ba et al. 2016).

Forward:   mu = mean(x),  var = mean((x - mu)^2),  r = 1/sqrt(var + eps),  xh = (x - mu) r,  y = xh g + b
Backward (D features, dxh = dy g):

    dx = r * (dxh - mean(dxh) - xh * mean(dxh * xh)),    dg = sum dy * xh,    db = sum dy
(the sums over every axis but the last).
"""

import numpy as np


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Return ``(y, cache)``; cache = (xh, rstd, gamma) for the backward."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * rstd
    return x_hat * gamma + beta, (x_hat, rstd, np.asarray(gamma, dtype=np.float64))


def layernorm_backward(grad_y, cache):
    """Return ``(dx, dgamma, dbeta)``."""
    x_hat, rstd, gamma = cache
    grad_y = np.asarray(grad_y, dtype=np.float64)
    grad_x_hat = grad_y * gamma
    grad_x = rstd * (grad_x_hat - grad_x_hat.mean(axis=-1, keepdims=True)
                     - x_hat * (grad_x_hat * x_hat).mean(axis=-1, keepdims=True))
    leading = tuple(range(grad_y.ndim - 1))
    return grad_x, (grad_y * x_hat).sum(axis=leading), grad_y.sum(axis=leading)

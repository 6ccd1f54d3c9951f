"""Batch normalisation of (B, C, H, W) in training mode, forward and backward, in NumPy float64
(Ioffe & Szegedy 2015). Per channel, over the n = B H W values:

    xh = (x - mu) / sqrt(var + eps),   y = g xh + b
    dx = r (dxh - mean(dxh) - xh mean(dxh xh)),  dxh = dy g,  r = 1/sqrt(var + eps)
    running statistics: m <- (1 - momentum) m + momentum mu;  v <- (1 - momentum) v + momentum var n/(n-1)
"""

import numpy as np

_AXES = (0, 2, 3)


def batchnorm2d_forward(x, gamma, beta, eps=1e-5):
    """Return ``(y, cache, (batch_mean, unbiased_batch_var))``."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=_AXES, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=_AXES, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * rstd
    gamma4 = np.asarray(gamma, dtype=np.float64)[None, :, None, None]
    count = x.size // x.shape[1]
    stats = (mean.reshape(-1), var.reshape(-1) * count / (count - 1))
    return x_hat * gamma4 + np.asarray(beta)[None, :, None, None], (x_hat, rstd, gamma4), stats


def batchnorm2d_backward(grad_y, cache):
    """Return ``(dx, dgamma, dbeta)``."""
    x_hat, rstd, gamma4 = cache
    grad_x_hat = grad_y * gamma4
    grad_x = rstd * (grad_x_hat - grad_x_hat.mean(axis=_AXES, keepdims=True)
                     - x_hat * (grad_x_hat * x_hat).mean(axis=_AXES, keepdims=True))
    return grad_x, (grad_y * x_hat).sum(axis=_AXES), grad_y.sum(axis=_AXES)

"""Position-wise feed-forward network FFN(x) = W2 act(W1 x + b1) + b2 (Vaswani et al. 2017, eq. 2),
forward and backward by the chain rule through linear.py and activations.py, in NumPy float64."""

import numpy as np

from minitransformer.reference.activations import gelu, gelu_backward, relu, relu_backward
from minitransformer.reference.linear import linear_backward, linear_forward


def _act(name, x):
    return relu(x) if name == "relu" else gelu(x, "tanh" if name == "gelu_tanh" else "none")


def _act_backward(name, x, grad):
    return relu_backward(x, grad) if name == "relu" else gelu_backward(x, grad, "tanh" if name == "gelu_tanh" else "none")


def feedforward_forward(x, w1, b1, w2, b2, activation="gelu"):
    """Return ``(y, cache)``."""
    x = np.asarray(x, dtype=np.float64)
    pre = linear_forward(x, w1, b1)  # (..., F)
    hidden = _act(activation, pre)
    return linear_forward(hidden, w2, b2), (x, pre, hidden, w1, w2, activation)


def feedforward_backward(grad_y, cache):
    """Return ``(dx, dw1, db1, dw2, db2)``."""
    x, pre, hidden, w1, w2, activation = cache
    grad_hidden, grad_w2, grad_b2 = linear_backward(hidden, w2, grad_y)
    grad_pre = _act_backward(activation, pre, grad_hidden)
    grad_x, grad_w1, grad_b1 = linear_backward(x, w1, grad_pre)
    return grad_x, grad_w1, grad_b1, grad_w2, grad_b2

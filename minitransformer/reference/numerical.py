"""Central finite differences in float64: the independent check of every hand-written backward.

    dL/dx_i ~ (L(x + h e_i) - L(x - h e_i)) / (2 h),     error O(h^2)

For an array-valued f and an upstream gradient g, L(x) = sum(g * f(x)).
"""

import numpy as np


def numerical_gradient(f, x, grad_out, h=1e-6):
    """d sum(grad_out * f(x)) / dx by central differences; ``f`` maps a float64 array to an array."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        plus = np.sum(grad_out * f(x))
        flat_x[i] = original - h
        minus = np.sum(grad_out * f(x))
        flat_x[i] = original
        flat_grad[i] = (plus - minus) / (2.0 * h)
    return grad

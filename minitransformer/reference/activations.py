"""GELU and ReLU with their derivatives in NumPy float64 (Hendrycks & Gimpel 2016).

    gelu(x) = x Phi(x),               gelu'(x) = Phi(x) + x phi(x)          Phi, phi: standard normal cdf, pdf
    gelu_tanh(x) = x/2 (1 + tanh u),  u = c (x + a x^3), c = sqrt(2/pi), a = 0.044715
    gelu_tanh'(x) = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) c (1 + 3 a x^2)
    relu(x) = max(x, 0),              relu'(x) = [x > 0]
"""

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])
_C = math.sqrt(2.0 / math.pi)
_A = 0.044715


def gelu(x, approximate="none"):
    x = np.asarray(x, dtype=np.float64)
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(_C * (x + _A * x ** 3)))
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def gelu_backward(x, grad_y, approximate="none"):
    x = np.asarray(x, dtype=np.float64)
    if approximate == "tanh":
        t = np.tanh(_C * (x + _A * x ** 3))
        derivative = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t ** 2) * _C * (1.0 + 3.0 * _A * x ** 2)
    else:
        cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
        pdf = np.exp(-0.5 * x ** 2) / math.sqrt(2.0 * math.pi)
        derivative = cdf + x * pdf
    return grad_y * derivative


def relu(x):
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def relu_backward(x, grad_y):
    return grad_y * (np.asarray(x) > 0)

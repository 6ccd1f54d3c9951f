"""One step of SGD, Adam and AdamW on NumPy float64 arrays, written from the papers' update rules.

SGD (momentum mu, dampening d, Nesterov):  g = grad + wd p;  b = g (first step) else mu b + (1 - d) g;
                                           p -= lr (g + mu b if nesterov else b)
Adam (Kingma & Ba 2015, Alg. 1):           g = grad + wd p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
                                           p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
AdamW (Loshchilov & Hutter 2019, Alg. 2):  p *= 1 - lr wd, then Adam with g = grad.

Each function returns the new parameter and the new state (a dict); nothing is modified in place.
"""

import numpy as np


def sgd_step(p, grad, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * p
    if momentum == 0.0:
        return p - lr * g, state
    buffer = g.copy() if "buffer" not in state else momentum * state["buffer"] + (1.0 - dampening) * g
    direction = g + momentum * buffer if nesterov else buffer
    return p - lr * direction, {"buffer": buffer}


def adam_step(p, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    beta1, beta2 = betas
    if decoupled:
        p, g = p * (1.0 - lr * weight_decay), grad
    else:
        g = grad + weight_decay * p
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", np.zeros_like(p)) + (1.0 - beta1) * g
    v = beta2 * state.get("v", np.zeros_like(p)) + (1.0 - beta2) * g * g
    m_hat, v_hat = m / (1.0 - beta1 ** t), v / (1.0 - beta2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def adamw_step(p, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return adam_step(p, grad, state, lr, betas, eps, weight_decay, decoupled=True)

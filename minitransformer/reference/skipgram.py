"""Negative-sampling losses of skip-gram and CBOW and their gradients, in NumPy float64, one window at a
time (Mikolov et al. 2013, "Distributed Representations of Words and Phrases and their
Compositionality", eq. 4).

A window has M context input vectors v_1..v_M (some may be padding: mask 0) and K+1 output vectors:
u_0 for the true centre word (label y_0 = 1) and u_1..u_K for negative samples (y_j = 0; a negative
with target mask 0 is ignored). With σ(s) = 1 / (1 + e^-s) and log σ(-s) = log(1 - σ(s)):

    skip-gram:  L = -Σ_m Σ_j w_mj [ y_j log σ(v_m·u_j) + (1 - y_j) log σ(-v_m·u_j) ]
    CBOW:       h = (1/n) Σ_m v_m  (n real contexts),
                L = -Σ_j w_j [ y_j log σ(h·u_j) + (1 - y_j) log σ(-h·u_j) ]

Since d/ds [-y log σ(s) - (1 - y) log σ(-s)] = σ(s) - y, the gradients are

    skip-gram:  dL/dv_m = Σ_j w_mj (σ(v_m·u_j) - y_j) u_j,   dL/du_j = Σ_m w_mj (σ(v_m·u_j) - y_j) v_m
    CBOW:       dL/dv_m = mask_m / n · Σ_j w_j (σ(h·u_j) - y_j) u_j,   dL/du_j = w_j (σ(h·u_j) - y_j) h

(w is the product of the context and target masks). Losses are summed over windows.
"""

import numpy as np


def log_sigmoid(x):
    """log σ(x), stable for large |x|."""
    x = np.asarray(x, dtype=np.float64)
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


def sigmoid(x):
    return np.exp(log_sigmoid(x))


def _as_float64(context_vectors, context_mask, target_vectors, target_mask):
    arrays = [np.asarray(a, dtype=np.float64) for a in (context_vectors, context_mask, target_vectors, target_mask)]
    v, mask, u, target_mask = arrays
    if v.ndim != 3 or u.ndim != 3 or v.shape[0] != u.shape[0] or v.shape[2] != u.shape[2]:
        raise ValueError(f"context_vectors (C, M, D) and target_vectors (C, K+1, D) disagree: {v.shape}, {u.shape}")
    if mask.shape != v.shape[:2] or target_mask.shape != u.shape[:2]:
        raise ValueError(f"context_mask must be {v.shape[:2]} and target_mask {u.shape[:2]}, "
                         f"got {mask.shape} and {target_mask.shape}")
    return v, mask, u, target_mask


def skipgram_loss(context_vectors, context_mask, target_vectors, target_mask):
    """Skip-gram loss and (dL/dcontext_vectors, dL/dtarget_vectors), shapes (C, M, D) and (C, K+1, D)."""
    v, mask, u, target_mask = _as_float64(context_vectors, context_mask, target_vectors, target_mask)
    labels = np.zeros(u.shape[1])
    labels[0] = 1.0
    loss, grad_v, grad_u = 0.0, np.zeros_like(v), np.zeros_like(u)
    for c in range(v.shape[0]):
        for m in range(v.shape[1]):
            for j in range(u.shape[1]):
                weight = mask[c, m] * target_mask[c, j]
                score = v[c, m] @ u[c, j]
                loss -= weight * (log_sigmoid(score) if labels[j] else log_sigmoid(-score))
                error = weight * (sigmoid(score) - labels[j])
                grad_v[c, m] += error * u[c, j]
                grad_u[c, j] += error * v[c, m]
    return float(loss), grad_v, grad_u


def cbow_loss(context_vectors, context_mask, target_vectors, target_mask):
    """CBOW loss (h = mean of the real contexts) and its gradients, shapes as for ``skipgram_loss``."""
    v, mask, u, target_mask = _as_float64(context_vectors, context_mask, target_vectors, target_mask)
    labels = np.zeros(u.shape[1])
    labels[0] = 1.0
    loss, grad_v, grad_u = 0.0, np.zeros_like(v), np.zeros_like(u)
    for c in range(v.shape[0]):
        count = max(mask[c].sum(), 1.0)
        h = (mask[c][:, None] * v[c]).sum(axis=0) / count  # (D,)
        grad_h = np.zeros_like(h)
        for j in range(u.shape[1]):
            score = h @ u[c, j]
            loss -= target_mask[c, j] * (log_sigmoid(score) if labels[j] else log_sigmoid(-score))
            error = target_mask[c, j] * (sigmoid(score) - labels[j])
            grad_h += error * u[c, j]
            grad_u[c, j] = error * h
        grad_v[c] = mask[c][:, None] * grad_h / count
    return float(loss), grad_v, grad_u

"""Gradient clipping by the global norm (Pascanu et al. 2013, "On the difficulty of training RNNs"):

    n = sqrt(Σ_p ||g_p||²),    g_p <- g_p · min(1, max_norm / (n + 1e-6))
"""

import torch


def clip_grad_norm(parameters, max_norm):
    """Scale the gradients of ``parameters`` in place; returns the norm before clipping (a float)."""
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    norm = torch.sqrt(sum((g.detach().double() ** 2).sum() for g in grads)).item()
    scale = min(1.0, max_norm / (norm + 1e-6))
    if scale < 1.0:
        for g in grads:
            g.mul_(scale)
    return norm

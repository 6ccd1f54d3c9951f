"""Cross-entropy (with ignore_index and label smoothing) and binary cross-entropy with logits, forward
and backward, in NumPy float64. Logits (..., C), class ids (...).

Cross-entropy with smoothing eps:  q = (1 - eps) one_hot(y) + eps / C,   loss = -sum_c q_c log p_c,
    dloss/dlogits = p - q                      (per kept position; "mean" divides by their number)
BCE with logits and pos_weight w:  loss = w y softplus(-x) + (1 - y) softplus(x),
    dloss/dx = -w y sigmoid(-x) + (1 - y) sigmoid(x)
"""

import numpy as np


def log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _smoothed_targets(targets, kept, num_classes, label_smoothing):
    one_hot = np.zeros(targets.shape + (num_classes,))
    safe = np.where(kept, targets, 0)
    np.put_along_axis(one_hot, safe[..., None], 1.0, axis=-1)
    return (1.0 - label_smoothing) * one_hot + label_smoothing / num_classes


def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    """Loss (a scalar for "mean"/"sum", per position for "none"); ignored positions give 0."""
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    kept = targets != ignore_index
    q = _smoothed_targets(targets, kept, logits.shape[-1], label_smoothing)
    losses = np.where(kept, -(q * log_softmax(logits)).sum(axis=-1), 0.0)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / max(int(kept.sum()), 1)


def cross_entropy_backward(logits, targets, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    """d loss / d logits for "mean" or "sum" (upstream gradient 1)."""
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    kept = targets != ignore_index
    q = _smoothed_targets(targets, kept, logits.shape[-1], label_smoothing)
    grad = (np.exp(log_softmax(logits)) - q) * kept[..., None]
    return grad if reduction == "sum" else grad / max(int(kept.sum()), 1)


def _softplus(z):
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _sigmoid(z):
    return np.exp(-_softplus(-z))


def binary_cross_entropy_with_logits(logits, targets, pos_weight=1.0):
    """Mean loss."""
    x, y = np.asarray(logits, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    return np.mean(pos_weight * y * _softplus(-x) + (1.0 - y) * _softplus(x))


def binary_cross_entropy_with_logits_backward(logits, targets, pos_weight=1.0):
    """d mean-loss / d logits."""
    x, y = np.asarray(logits, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    return (-pos_weight * y * _sigmoid(-x) + (1.0 - y) * _sigmoid(x)) / x.size

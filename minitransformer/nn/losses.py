"""Classification losses from logits.

Cross-entropy with a numerically stable log-softmax (subtract the row max m before exp):

    log p_c = x_c - m - log sum_j exp(x_j - m),       loss = -log p_y

with label smoothing eps (Szegedy et al. 2016, "Rethinking the Inception Architecture", section 7) the
target is (1 - eps) one_hot(y) + eps / C, so loss = (1 - eps)(-log p_y) + eps * mean_c(-log p_c).
Targets equal to ``ignore_index`` contribute nothing; "mean" divides by the number of the others (and is
0, not NaN, when every target is ignored — a batch with nothing to predict adds no loss).

Binary cross-entropy with logits, with softplus(z) = log(1 + e^z) = max(z, 0) + log(1 + e^-|z|):

    loss = pos_weight * y * softplus(-x) + (1 - y) * softplus(x)     (= -[w y log s(x) + (1-y) log(1-s(x))])

Unlike ``F.cross_entropy``, the class dimension is the **last** one: logits (..., C), targets (...).
"""

import torch
import torch.nn.functional as F
from torch import nn

from minitransformer.nn._checks import check_tensor
from minitransformer.nn.backends import BACKENDS, load_fused_op, on_device, resolve_backend

REDUCTIONS = ("mean", "sum", "none")


def log_softmax(x, dim=-1):
    """x - max - log(sum(exp(x - max))): never overflows."""
    shifted = x - x.amax(dim, keepdim=True).detach()
    return shifted - torch.log(torch.exp(shifted).sum(dim, keepdim=True))


def _reduce(losses, reduction, count=None):
    """``count``: the divisor of "mean", a tensor >= 1 (kept on the device: no host sync); default numel."""
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    return total / (max(losses.numel(), 1) if count is None else count)


def check_class_targets(targets, shape, shape_name):
    """ValueError unless ``targets`` is an int64/int32 tensor of class ids of ``shape`` (called ``shape_name``)."""
    if not isinstance(targets, torch.Tensor) or targets.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"targets must be an int64/int32 tensor of class ids, got "
                         f"{getattr(targets, 'dtype', type(targets).__name__)}")
    if targets.shape != shape:
        raise ValueError(f"targets must have shape {shape_name} = {tuple(shape)}, got {tuple(targets.shape)}")


def check_targets_in_range(targets, num_classes, ignore_index):
    """ValueError unless every target is in [0, num_classes) or ``ignore_index``. Reading the targets' values on
    the host would split a torch.compile graph: the check runs in eager only."""
    if torch.compiler.is_compiling():
        return
    if ((targets != ignore_index) & ((targets < 0) | (targets >= num_classes))).any():
        raise ValueError(f"targets must be in [0, {num_classes}) or equal to ignore_index={ignore_index}")


def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0, reduction="mean", backend="eager"):
    """Cross-entropy of ``logits`` (..., C) against class ids ``targets`` (...). ``backend``: "eager" (the
    equations above in torch ops), "torch" (``F.cross_entropy``) or "fused" (``minitransformer.ops.
    cross_entropy``, one C++ pass per row that never stores the log-probabilities)."""
    check_tensor("logits", logits, min_ndim=1)
    check_class_targets(targets, logits.shape[:-1], "logits.shape[:-1]")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    backend = on_device(backend, logits)
    if backend == "fused":
        return load_fused_op("cross_entropy")(logits, targets, ignore_index, label_smoothing, reduction)
    num_classes = logits.shape[-1]
    kept = targets != ignore_index
    count = kept.sum().clamp(min=1)  # the divisor of "mean", left on the device
    if backend == "torch":
        losses = F.cross_entropy(logits.reshape(-1, num_classes), targets.reshape(-1).long(), ignore_index=ignore_index,
                                 label_smoothing=label_smoothing, reduction="none").reshape(targets.shape)
        return _reduce(losses, reduction, count)
    check_targets_in_range(targets, num_classes, ignore_index)
    # Half-precision logits are reduced in float32, as the fused op does; the losses come back in the logits'
    # dtype, or in float32 under autocast (which runs every cross-entropy in float32).
    wide = logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits
    log_probs = log_softmax(wide)  # (..., C)
    safe_targets = torch.where(kept, targets, torch.zeros_like(targets)).long()
    nll = -log_probs.gather(-1, safe_targets.unsqueeze(-1)).squeeze(-1)  # (...)
    losses = nll if label_smoothing == 0.0 else \
        (1.0 - label_smoothing) * nll - label_smoothing * log_probs.mean(-1)
    losses = torch.where(kept, losses, torch.zeros_like(losses))
    if wide is not logits and not torch.is_autocast_enabled(logits.device.type):
        losses = losses.to(logits.dtype)
    return _reduce(losses, reduction, count)


def softplus(x):
    """log(1 + e^x) computed as max(x, 0) + log1p(e^-|x|)."""
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-torch.abs(x)))


def binary_cross_entropy_with_logits(logits, targets, pos_weight=None, reduction="mean"):
    """Binary cross-entropy of ``logits`` against targets in [0, 1] of the same shape."""
    check_tensor("logits", logits)
    check_tensor("targets", targets)
    if targets.shape != logits.shape:
        raise ValueError(f"targets must have the shape of logits {tuple(logits.shape)}, got {tuple(targets.shape)}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    positive_weight = 1.0 if pos_weight is None else pos_weight
    losses = positive_weight * targets * softplus(-logits) + (1.0 - targets) * softplus(logits)
    return _reduce(losses, reduction)


class CrossEntropyLoss(nn.Module):
    def __init__(self, ignore_index=-100, label_smoothing=0.0, reduction="mean", backend="eager"):
        super().__init__()
        self.ignore_index, self.label_smoothing, self.reduction = ignore_index, label_smoothing, reduction
        self.backend = resolve_backend(backend)

    def forward(self, logits, targets):
        return cross_entropy(logits, targets, self.ignore_index, self.label_smoothing, self.reduction, self.backend)


class BCEWithLogitsLoss(nn.Module):
    def __init__(self, pos_weight=None, reduction="mean"):
        super().__init__()
        self.pos_weight, self.reduction = pos_weight, reduction

    def forward(self, logits, targets):
        return binary_cross_entropy_with_logits(logits, targets, self.pos_weight, self.reduction)

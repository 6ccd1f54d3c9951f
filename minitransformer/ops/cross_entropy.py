"""Cross-entropy fused with its log-softmax as a custom op: ``torch.ops.minitransformer.cross_entropy_*``
and its Python face.

Per row of logits x (C classes) with target y and label smoothing eps (q = (1 - eps) one_hot(y) + eps / C):

    m = max_c x_c,   l = log sum_c exp(x_c - m)          (logsumexp(x) = m + l)
    loss = m + l - sum_c q_c x_c = l + (1 - eps)(m - x_y) + eps (m - mean_c x_c)
    d loss / d x_c = softmax(x)_c - q_c = exp((x_c - m) - l) - q_c

The forward keeps only m and l per row; the backward rebuilds the probabilities from them in the same pass
that writes the gradient, so neither the log-probabilities nor the probabilities (rows x C floats each)
are ever stored. m and l stay apart because x_c - m is exact where it matters and x_c - (m + l) is not. Rows whose target is ``ignore_index`` add nothing. The same loss in torch ops is
``minitransformer.nn.cross_entropy`` (nn/losses.py), the parity reference.
"""

import torch

from minitransformer.ops import _extension  # noqa: F401  (registers torch.ops.minitransformer)
from minitransformer.ops.dtypes import compute_dtype

REDUCTIONS = ("mean", "sum", "none")

_ops = torch.ops.minitransformer


def forward_fake_outputs(op, logits, targets):
    """The outputs (losses, row max, log-sum) of a cross-entropy forward ``op`` (ours, or an emulated rung),
    shapes and dtypes only, after its shape check."""
    if logits.dim() != 2 or targets.shape != logits.shape[:1]:
        raise RuntimeError(f"{op}: logits must be (rows, classes) and targets "
                           f"(rows,), got {tuple(logits.shape)} and {tuple(targets.shape)}")
    rows, stats_dtype = logits.shape[:1], compute_dtype(logits.dtype)  # m and l: float32 for bfloat16 / float16
    return logits.new_empty(rows), logits.new_empty(rows, dtype=stats_dtype), logits.new_empty(rows, dtype=stats_dtype)


@torch.library.register_fake("minitransformer::cross_entropy_forward")
def _forward_fake(logits, targets, ignore_index, label_smoothing):
    return forward_fake_outputs("minitransformer::cross_entropy_forward", logits, targets)


@torch.library.register_fake("minitransformer::cross_entropy_backward")
def _backward_fake(logits, targets, row_max, log_sum, grad_losses, ignore_index, label_smoothing):
    return torch.empty_like(logits)


def _save_for_backward(ctx, inputs, output):
    logits, targets, ctx.ignore_index, ctx.label_smoothing = inputs
    ctx.save_for_backward(logits, targets, output[1], output[2])
    ctx.mark_non_differentiable(output[1], output[2])  # saved for the backward, not results to differentiate


def _backward(ctx, grad_losses, _grad_row_max, _grad_log_sum):
    logits, targets, row_max, log_sum = ctx.saved_tensors
    grad_logits = _ops.cross_entropy_backward(logits, targets, row_max, log_sum, grad_losses.contiguous(),
                                              ctx.ignore_index, ctx.label_smoothing)
    return grad_logits, None, None, None


torch.library.register_autograd("minitransformer::cross_entropy_forward", _backward,
                                setup_context=_save_for_backward)


@torch.library.register_fake("minitransformer::cross_entropy_backward_")
def _backward_inplace_fake(logits, targets, row_max, log_sum, grad_losses, ignore_index, label_smoothing):
    return None


@torch.library.impl("minitransformer::cross_entropy_backward_", "CompositeExplicitAutograd")
def _backward_inplace_elsewhere(logits, targets, row_max, log_sum, grad_losses, ignore_index, label_smoothing):
    """Devices without an in-place kernel (the CPU has one): the gradient computed apart, then copied over."""
    logits.copy_(_ops.cross_entropy_backward(logits, targets, row_max, log_sum, grad_losses, ignore_index,
                                             label_smoothing))


@torch.library.register_fake("minitransformer::cross_entropy_bias_gradient_")
def _bias_gradient_fake(logits, targets, bias, grad_losses, grad_bias, ignore_index):
    return logits.new_empty(logits.shape[:1])


def bias_gradient_steps_(logits, targets, bias, grad_losses, grad_bias, ignore_index):
    """cross_entropy_bias_gradient_ on devices without its fused kernel (the CPU has one): the bias added, the
    loss and its gradient in place (cross_entropy_and_gradient_), then the sum over rows."""
    logits.add_(bias)
    losses = cross_entropy_and_gradient_(logits, targets, grad_losses, ignore_index)
    grad_bias.add_(logits.sum(0))
    return losses


torch.library.impl("minitransformer::cross_entropy_bias_gradient_", "CompositeExplicitAutograd", bias_gradient_steps_)


def cross_entropy_and_gradient_(logits, targets, grad_losses, ignore_index=-100, bias=None, grad_bias=None):
    """Per-row losses of ``logits`` (rows, C) against ``targets`` (rows,), with ``logits`` overwritten by
    d(sum_r grad_losses_r loss_r) / d logits: two passes per row and no second (rows, C) buffer, for a caller
    that owns the logits (nn/linear_cross_entropy.py's chunks). With ``bias`` (C,) the loss is that of
    logits + bias, and the gradient's sum over the rows (d bias) is added to ``grad_bias`` (C,) in the same
    passes. Not differentiable itself."""
    if bias is not None:
        return _ops.cross_entropy_bias_gradient_(logits, targets, bias, grad_losses, grad_bias, int(ignore_index))
    losses, row_max, log_sum = _ops.cross_entropy_forward(logits, targets, int(ignore_index), 0.0)
    _ops.cross_entropy_backward_(logits, targets, row_max, log_sum, grad_losses, int(ignore_index), 0.0)
    return losses


def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    """Cross-entropy of ``logits`` (..., C) against class ids ``targets`` (...), class dimension last (as
    nn/losses.py). "mean" divides by the number of targets that are not ``ignore_index`` (0 when none is)."""
    if not isinstance(logits, torch.Tensor) or logits.dim() < 1:
        raise ValueError("cross_entropy: logits must be a tensor with a class dimension (..., C)")
    if not isinstance(targets, torch.Tensor) or targets.shape != logits.shape[:-1]:
        raise ValueError(f"cross_entropy: targets must have shape logits.shape[:-1] = {tuple(logits.shape[:-1])}, "
                         f"got {tuple(getattr(targets, 'shape', ()))}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    losses, _, _ = _ops.cross_entropy_forward(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1).long(),
                                           int(ignore_index), float(label_smoothing))
    if reduction == "none":
        return losses.reshape(targets.shape)
    if reduction == "sum":
        return losses.sum()
    kept = (targets != ignore_index).sum().clamp(min=1)
    return losses.sum() / kept

"""A linear layer and the cross-entropy of its output, in row chunks, never holding the full logits.

For hidden states x (R, d), a weight W (V, d), a bias b (V,) and targets y (R,):

    logits = x Wᵀ + b   (R, V),     loss = (1/n) Σ_r [logsumexp(logits_r) − logits_r,y_r]
    d logits_r = (softmax(logits_r) − one_hot(y_r)) / n        (0 on rows whose target is ignore_index)
    dx = d logits · W,     dW = d logitsᵀ · x,     db = Σ_r d logits_r

n is the number of rows whose target is not ``ignore_index`` ("mean"; "sum" takes n = 1). The unfused form,
``cross_entropy(x @ W.T + b, y)``, keeps R·V floats alive for the backward (the logits, or their
log-softmax) and makes more of the same size in it: at R = 4096 and V = 30,000 each is 492 MB in float32,
for a loss whose inputs are a few MB. Here the rows go ``chunk_size`` at a time: a chunk's logits (chunk_size,
V) are made, reduced to its losses, turned in place into its d logits, and multiplied straight into dx, dW
and db; then the buffer is reused by the next chunk. As the loss is a scalar, d loss / d x is d(loss) times
these gradients, so they are computed in the forward — each chunk's logits once, nothing recomputed — and
the backward only scales them. Memory beyond the inputs: one chunk's logits, and dx, dW, db (the sizes of
x, W, b). When no input needs a gradient, only the losses are computed. The same idea as Liger-Kernel's
fused linear cross-entropy (Hsu et al. 2024).

``backend="fused"`` computes x Wᵀ and d logits W by ``ops.linear`` (oneDNN on the CPU, ops/linear.py) and
turns each chunk's logits into its losses and d logits with the fused cross-entropy op
(``ops.cross_entropy_and_gradient_``: two passes per row, the gradient written over the logits); "eager"
(the default) does it in torch ops, six passes over the chunk. With a bias that needs a gradient, the fused
op also adds b to the chunk's x Wᵀ and sums db while each row is in the cache, instead of ``addmm`` copying
b into the (c, V) output before the product and a sum over its rows after.
"""

import torch

from minitransformer.nn._checks import check_positive_int, check_tensor
from minitransformer.nn.backends import BACKENDS, load_fused_op
from minitransformer.nn.linear import linear
from minitransformer.nn.losses import check_class_targets, check_targets_in_range

REDUCTIONS = ("mean", "sum")


def _eager_loss_and_gradient_(logits, targets, keep, grad_losses):
    """The chunk's losses (c,), and its logits (c, V) overwritten by d(sum_r grad_losses_r loss_r) / d logits
    when ``grad_losses`` is given; rows where ``keep`` is False add nothing."""
    safe = torch.where(keep, targets, torch.zeros_like(targets)).long().unsqueeze(1)  # (c, 1)
    picked = logits.gather(1, safe)  # (c, 1): logits_y
    row_max = logits.amax(1, keepdim=True)  # (c, 1)
    exps = logits.sub_(row_max).exp_()  # exp(logits - max), in the logits' buffer: no second (c, V)
    sum_exp = exps.sum(1, keepdim=True)  # (c, 1)
    losses = (row_max + sum_exp.log() - picked).squeeze(1)  # logsumexp - logits_y, (c,)
    if grad_losses is not None:
        grad_logits = exps.div_(sum_exp)  # softmax, still in the same buffer
        grad_logits.scatter_add_(1, safe, torch.full_like(safe, -1, dtype=logits.dtype))  # − one_hot(y)
        grad_logits.mul_((keep * grad_losses).unsqueeze(1).to(logits.dtype))  # ignored rows: 0
    return torch.where(keep, losses, torch.zeros_like(losses))


def _fused_loss_and_gradient_(ignore_index):
    """``_eager_loss_and_gradient_`` by the fused cross-entropy op (ignored rows are those whose target is
    ``ignore_index``); given ``bias`` and ``grad_bias``, of logits + bias, with d bias added to ``grad_bias``."""
    def loss_and_gradient_(logits, targets, keep, grad_losses, bias=None, grad_bias=None):
        if grad_losses is None:
            return load_fused_op("cross_entropy")(logits, targets.long(), ignore_index, reduction="none")
        return load_fused_op("cross_entropy_and_gradient_")(logits, targets.long(), grad_losses.contiguous(),
                                                            ignore_index, bias, grad_bias)
    return loss_and_gradient_


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, bias, targets, chunk_size, ignore_index, reduction, backend):
        # Autocast off: the head and its loss run in the inputs' dtype (autocast runs a cross-entropy in float32),
        # and the gradients accumulate into buffers of that dtype.
        with torch.autocast(hidden.device.type, enabled=False):
            rows = hidden.shape[0]  # hidden (R, d), weight (V, d), bias (V,) or None, targets (R,)
            kept = targets != ignore_index  # (R,)
            count = kept.sum().clamp(min=1).to(hidden.dtype) if reduction == "mean" else hidden.new_ones(())  # n
            wants_grad = any(ctx.needs_input_grad[:3])
            grad_hidden = torch.empty_like(hidden) if ctx.needs_input_grad[0] else None
            grad_weight = torch.zeros_like(weight) if ctx.needs_input_grad[1] else None
            grad_bias = torch.zeros_like(bias) if bias is not None and ctx.needs_input_grad[2] else None
            loss_and_gradient_ = (_fused_loss_and_gradient_(ignore_index) if backend == "fused"
                                  else _eager_loss_and_gradient_)
            bias_in_loss = backend == "fused" and grad_bias is not None  # the fused op adds b and sums db
            bias_args = (bias, grad_bias) if bias_in_loss else ()
            total = hidden.new_zeros(())
            for start in range(0, rows, chunk_size):
                rows_here = slice(start, start + chunk_size)
                x, y, keep = hidden[rows_here], targets[rows_here], kept[rows_here]  # (c, d), (c,), (c,)
                logits = (linear(x, weight, backend=backend) if bias is None or bias_in_loss
                          else torch.addmm(bias, x, weight.T))  # (c, V)
                grad_losses = (1 / count).expand(len(y)) if wants_grad else None  # d loss / d loss_r = 1 / n
                total = total + loss_and_gradient_(logits, y, keep, grad_losses, *bias_args).sum()
                if not wants_grad:
                    continue
                grad_logits = logits  # now the chunk's d logits (c, V)
                if grad_hidden is not None:
                    grad_hidden[rows_here] = linear(grad_logits, weight.T, backend=backend)  # d logits W, (c, d)
                if grad_weight is not None:
                    grad_weight.addmm_(grad_logits.T, x)  # (V, d)
                if grad_bias is not None and not bias_in_loss:
                    grad_bias.add_(grad_logits.sum(0))  # (V,)
            ctx.save_for_backward(grad_hidden, grad_weight, grad_bias)
            return total / count

    @staticmethod
    def backward(ctx, grad_loss):
        # Scaled out of place: the graph may be walked again (retain_graph, gradcheck) and must find them intact.
        grads = (None if g is None else g * grad_loss for g in ctx.saved_tensors)
        return (*grads, None, None, None, None, None)


def linear_cross_entropy(hidden, weight, bias, targets, chunk_size=512, ignore_index=-100, reduction="mean",
                         backend="eager"):
    """The cross-entropy of ``hidden @ weight.T + bias`` (..., V) against class ids ``targets`` (...), computed
    ``chunk_size`` rows at a time (``bias`` may be None). Equals ``nn.cross_entropy(hidden @ weight.T + bias,
    targets)`` without ever holding all the logits. ``backend``: "eager" or "fused" (module docstring); "torch"
    runs as "eager"."""
    check_tensor("hidden", hidden, min_ndim=1)
    check_tensor("weight", weight, ndim=2, last_dim=hidden.shape[-1])
    if bias is not None:
        check_tensor("bias", bias, ndim=1)
        if bias.shape[0] != weight.shape[0]:
            raise ValueError(f"bias must have {weight.shape[0]} elements (weight's rows), got {bias.shape[0]}")
    check_class_targets(targets, hidden.shape[:-1], "hidden.shape[:-1]")
    check_positive_int("chunk_size", chunk_size)
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    check_targets_in_range(targets, weight.shape[0], ignore_index)
    return _LinearCrossEntropy.apply(hidden.reshape(-1, hidden.shape[-1]).contiguous(), weight, bias,
                                     targets.reshape(-1), chunk_size, ignore_index, reduction, backend)

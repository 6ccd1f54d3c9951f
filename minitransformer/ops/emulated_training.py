"""The CUDA ladders of the training ops executed on CPU tensors by the CUDA emulation layer (csrc/emu/,
docs/emulation.md): each function runs rung ``version`` of an op's ladder, csrc/kernels/<op>_v<k>.cuh
(``kernel_versions(op)``; default: the best), the very sources nvcc compiles for the GPU.

    dropout_add     y = residual + x m / (1 - p)                     (m: the Philox keep mask)
    layer_norm      y = (x - mean) rstd gamma + beta
    bias_gelu       y = gelu(x + b)
    cross_entropy   loss = logsumexp(x) - x_target  (with label smoothing and ignore_index)

They are differentiable: the backward runs the same rung's backward kernels with the same emulator
options (``order``, ``order_seed``, ``scheduler``: see ops/emulated.py, where ``order_seed`` is called
``seed``). They take float32, float16 and bfloat16, like the CUDA kernels, and compute in float32; the outputs
have the input's dtype, except what a forward saves for its backward (layer norm's mean and rstd,
cross-entropy's row max and log-sum), which is in ``compute_dtype`` (ops/dtypes.py): float32.
"""

import torch

from minitransformer.ops._extension import kernel_versions  # importing _extension registers the ops
from minitransformer.ops.cross_entropy import forward_fake_outputs as cross_entropy_fake_outputs
from minitransformer.ops.emulated import _check_fake_inputs, _check_options
from minitransformer.ops.layer_norm import forward_fake_outputs as layer_norm_fake_outputs

DROPOUT_VERSIONS = kernel_versions("dropout")
LAYER_NORM_VERSIONS = kernel_versions("layer_norm")
BIAS_GELU_VERSIONS = kernel_versions("bias_gelu")
CROSS_ENTROPY_VERSIONS = kernel_versions("cross_entropy")

_ops = torch.ops.minitransformer


def _check_version(op, version, versions):
    if version not in versions:
        raise ValueError(f"{op}: version must be one of {versions}, got {version!r}")


# --- dropout + residual -----------------------------------------------------------------------------

@torch.library.register_fake("minitransformer::emulated_dropout_add")
def _dropout_add_fake(x, residual, p, seed, offset, version, order, order_seed, scheduler):
    _check_fake_inputs("minitransformer::emulated_dropout_add", x=x)
    if residual is not None and residual.shape != x.shape:
        raise RuntimeError("minitransformer::emulated_dropout_add: residual must have x's shape "
                           f"{tuple(x.shape)}, got {tuple(residual.shape)}")
    return torch.empty_like(x, memory_format=torch.contiguous_format)


def _dropout_add_setup(ctx, inputs, output):
    _, residual, *ctx.arguments = inputs  # p, seed, offset, version, order, order_seed, scheduler
    ctx.has_residual = residual is not None


def _dropout_add_grad(ctx, grad_y):
    grad_x = _ops.emulated_dropout_add(grad_y.contiguous(), None, *ctx.arguments)  # the mask, drawn again
    return (grad_x, grad_y if ctx.has_residual else None) + (None,) * 7


torch.library.register_autograd("minitransformer::emulated_dropout_add", _dropout_add_grad,
                                setup_context=_dropout_add_setup)


def dropout_add(x, residual, p, seed, offset=0, *, version=DROPOUT_VERSIONS[-1], order="forward", order_seed=0,
                scheduler="fibers"):
    """``residual + dropout(x, p)`` (``residual`` may be None) with the mask of (``seed``, ``offset``): the bits
    of ``ops.dropout_add`` and of reference/dropout.py, by CUDA kernel ``version``."""
    _check_version("emulated_training.dropout_add", version, DROPOUT_VERSIONS)
    _check_options("emulated_training.dropout_add", order, order_seed, scheduler)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"emulated_training.dropout_add: p must be in [0, 1], got {p}")
    return _ops.emulated_dropout_add(x, residual, float(p), seed, offset, version, order, order_seed, scheduler)


# --- layer norm -------------------------------------------------------------------------------------

@torch.library.register_fake("minitransformer::emulated_layer_norm_forward")
def _layer_norm_forward_fake(x, weight, bias, eps, version, order, seed, scheduler):
    op = "minitransformer::emulated_layer_norm_forward"
    _check_fake_inputs(op, x=x, weight=weight, bias=bias)
    return layer_norm_fake_outputs(op, x, weight, bias)


@torch.library.register_fake("minitransformer::emulated_layer_norm_backward")
def _layer_norm_backward_fake(grad_y, x, weight, mean, rstd, version, order, seed, scheduler):
    _check_fake_inputs("minitransformer::emulated_layer_norm_backward", grad_y=grad_y, x=x)
    return torch.empty_like(x), torch.empty_like(weight), torch.empty_like(weight)


def _layer_norm_setup(ctx, inputs, output):
    x, weight, _, _, *ctx.options = inputs  # version, order, seed, scheduler
    ctx.save_for_backward(x, weight, output[1], output[2])
    ctx.mark_non_differentiable(output[1], output[2])


def _layer_norm_grad(ctx, grad_y, _grad_mean, _grad_rstd):
    x, weight, mean, rstd = ctx.saved_tensors
    grads = _ops.emulated_layer_norm_backward(grad_y.contiguous(), x, weight, mean, rstd, *ctx.options)
    return (*grads,) + (None,) * 5


torch.library.register_autograd("minitransformer::emulated_layer_norm_forward", _layer_norm_grad,
                                setup_context=_layer_norm_setup)


def layer_norm(x, weight, bias, eps=1e-5, *, version=LAYER_NORM_VERSIONS[-1], order="forward", order_seed=0,
               scheduler="fibers"):
    """Layer normalisation of ``x`` (..., D) with ``weight`` and ``bias`` (D,) by CUDA kernel ``version``."""
    _check_version("emulated_training.layer_norm", version, LAYER_NORM_VERSIONS)
    _check_options("emulated_training.layer_norm", order, order_seed, scheduler)
    return _ops.emulated_layer_norm_forward(x, weight, bias, float(eps), version, order, order_seed, scheduler)[0]


# --- bias + GELU ------------------------------------------------------------------------------------

@torch.library.register_fake("minitransformer::emulated_bias_gelu_forward")
def _bias_gelu_forward_fake(x, bias, approximate, version, order, seed, scheduler):
    _check_fake_inputs("minitransformer::emulated_bias_gelu_forward", x=x, bias=bias)
    if bias.shape != x.shape[-1:]:
        raise RuntimeError(f"minitransformer::emulated_bias_gelu_forward: bias must be (F,) for x (..., F), got "
                           f"{tuple(bias.shape)} and {tuple(x.shape)}")
    return torch.empty_like(x)


@torch.library.register_fake("minitransformer::emulated_bias_gelu_backward")
def _bias_gelu_backward_fake(grad_y, x, bias, approximate, version, order, seed, scheduler):
    _check_fake_inputs("minitransformer::emulated_bias_gelu_backward", grad_y=grad_y, x=x)
    return torch.empty_like(x), torch.empty_like(bias)


def _bias_gelu_setup(ctx, inputs, output):
    x, bias, *ctx.arguments = inputs  # approximate, version, order, seed, scheduler
    ctx.save_for_backward(x, bias)


def _bias_gelu_grad(ctx, grad_y):
    x, bias = ctx.saved_tensors
    grad_x, grad_bias = _ops.emulated_bias_gelu_backward(grad_y.contiguous(), x, bias, *ctx.arguments)
    return (grad_x, grad_bias) + (None,) * 5


torch.library.register_autograd("minitransformer::emulated_bias_gelu_forward", _bias_gelu_grad,
                                setup_context=_bias_gelu_setup)


def bias_gelu(x, bias, approximate="none", *, version=BIAS_GELU_VERSIONS[-1], order="forward", order_seed=0,
              scheduler="fibers"):
    """``gelu(x + bias)`` (``approximate`` "none" or "tanh") by CUDA kernel ``version``."""
    _check_version("emulated_training.bias_gelu", version, BIAS_GELU_VERSIONS)
    _check_options("emulated_training.bias_gelu", order, order_seed, scheduler)
    return _ops.emulated_bias_gelu_forward(x, bias, approximate, version, order, order_seed, scheduler)


# --- cross-entropy ----------------------------------------------------------------------------------

@torch.library.register_fake("minitransformer::emulated_cross_entropy_forward")
def _cross_entropy_forward_fake(logits, targets, ignore_index, label_smoothing, version, order, seed, scheduler):
    op = "minitransformer::emulated_cross_entropy_forward"
    _check_fake_inputs(op, logits=logits)
    return cross_entropy_fake_outputs(op, logits, targets)


@torch.library.register_fake("minitransformer::emulated_cross_entropy_backward")
def _cross_entropy_backward_fake(logits, targets, row_max, log_sum, grad_losses, ignore_index, label_smoothing,
                                 version, order, seed, scheduler):
    _check_fake_inputs("minitransformer::emulated_cross_entropy_backward", logits=logits)
    return torch.empty_like(logits)


def _cross_entropy_setup(ctx, inputs, output):
    logits, targets, *ctx.arguments = inputs  # ignore_index, label_smoothing, version, order, seed, scheduler
    ctx.save_for_backward(logits, targets, output[1], output[2])
    ctx.mark_non_differentiable(output[1], output[2])


def _cross_entropy_grad(ctx, grad_losses, _grad_max, _grad_log_sum):
    logits, targets, row_max, log_sum = ctx.saved_tensors
    ignore_index, label_smoothing, *options = ctx.arguments
    grad_logits = _ops.emulated_cross_entropy_backward(logits, targets, row_max, log_sum, grad_losses.contiguous(),
                                                       ignore_index, label_smoothing, *options)
    return (grad_logits,) + (None,) * 7


torch.library.register_autograd("minitransformer::emulated_cross_entropy_forward", _cross_entropy_grad,
                                setup_context=_cross_entropy_setup)


def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0, *, version=CROSS_ENTROPY_VERSIONS[-1],
                  order="forward", order_seed=0, scheduler="fibers"):
    """The per-row losses (0 where the target is ``ignore_index``) of ``logits`` (rows, classes) against int64
    ``targets`` (rows,), by CUDA kernel ``version``; reduce them as ``ops.cross_entropy`` does."""
    _check_version("emulated_training.cross_entropy", version, CROSS_ENTROPY_VERSIONS)
    _check_options("emulated_training.cross_entropy", order, order_seed, scheduler)
    return _ops.emulated_cross_entropy_forward(logits, targets, ignore_index, float(label_smoothing), version, order,
                                               order_seed, scheduler)[0]

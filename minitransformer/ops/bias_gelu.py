"""The feed-forward's first bias add and its GELU as one custom op: ``torch.ops.minitransformer.bias_gelu_*``
and its Python face.

    z = x + b,   y = gelu(z) = z Phi(z)                  (approximate "none": Phi by erf; "tanh": GPT-2's form)
    dx = dy gelu'(z),   db = sum_rows dx

x is the matrix product before its bias (``h @ W1.T``); only x is saved and z is recomputed in the backward,
so the chain "add bias, write z, read z, GELU, write y" becomes one read and one write. db is summed in a
fixed order (the same bits for any thread count). The same in torch ops: ``nn.gelu(x + b)``
(nn/activations.py), the parity reference.
"""

import torch

from minitransformer.ops import _extension  # noqa: F401  (registers torch.ops.minitransformer)

APPROXIMATIONS = ("none", "tanh")

_ops = torch.ops.minitransformer


@torch.library.register_fake("minitransformer::bias_gelu_forward")
def _forward_fake(x, bias, approximate):
    if x.dim() < 1 or bias.shape != x.shape[-1:]:
        raise RuntimeError(f"minitransformer::bias_gelu_forward: bias must be (F,) for x (..., F), got "
                           f"{tuple(bias.shape)} and {tuple(x.shape)}")
    return torch.empty_like(x)


@torch.library.register_fake("minitransformer::bias_gelu_backward")
def _backward_fake(grad_y, x, bias, approximate):
    return torch.empty_like(x), torch.empty_like(bias)


def _save_for_backward(ctx, inputs, output):
    x, bias, ctx.approximate = inputs
    ctx.save_for_backward(x, bias)


def _backward(ctx, grad_y):
    x, bias = ctx.saved_tensors
    grad_x, grad_bias = _ops.bias_gelu_backward(grad_y.contiguous(), x, bias, ctx.approximate)
    return grad_x, grad_bias, None


torch.library.register_autograd("minitransformer::bias_gelu_forward", _backward, setup_context=_save_for_backward)


def bias_gelu(x, bias, approximate="none"):
    """gelu(x + bias) for ``x`` (..., F) and ``bias`` (F,)."""
    if approximate not in APPROXIMATIONS:
        raise ValueError(f"bias_gelu: approximate must be one of {APPROXIMATIONS}, got {approximate!r}")
    return _ops.bias_gelu_forward(x, bias, approximate)

"""Layer normalisation over the last dimension as a custom op: ``torch.ops.minitransformer.layer_norm_*``
and its Python face.

    mu = mean(x),   rstd = 1 / sqrt(mean((x - mu)^2) + eps),   xh = (x - mu) rstd,   y = xh gamma + beta
    g = dy gamma:   dx = rstd (g - mean(g) - xh mean(g xh)),   dgamma = sum_rows dy xh,   dbeta = sum_rows dy

The forward saves two numbers per row (mu and rstd), not xh; the backward rebuilds xh in the one pass per
row that writes dx, and sums dgamma and dbeta in a fixed order (the same bits for any thread count). The
same normalisation in torch ops is ``minitransformer.nn.LayerNorm`` (nn/layernorm.py), the parity reference.
"""

import torch

from minitransformer.ops import _extension  # noqa: F401  (registers torch.ops.minitransformer)
from minitransformer.ops.dtypes import compute_dtype

_ops = torch.ops.minitransformer


def forward_fake_outputs(op, x, weight, bias):
    """The outputs (y, mean, rstd) of a layer-norm forward ``op`` (ours, or an emulated rung), shapes and dtypes
    only, after its shape check."""
    if x.dim() < 1 or weight.shape != x.shape[-1:] or bias.shape != x.shape[-1:]:
        raise RuntimeError(f"{op}: weight and bias must be (D,) for x (..., D), got "
                           f"{tuple(weight.shape)}, {tuple(bias.shape)} and {tuple(x.shape)}")
    mean = x.new_empty(x.shape[:-1], dtype=compute_dtype(x.dtype))  # and rstd: float32 for bfloat16 / float16 x
    return torch.empty_like(x), mean, torch.empty_like(mean)


@torch.library.register_fake("minitransformer::layer_norm_forward")
def _forward_fake(x, weight, bias, eps):
    return forward_fake_outputs("minitransformer::layer_norm_forward", x, weight, bias)


@torch.library.register_fake("minitransformer::layer_norm_backward")
def _backward_fake(grad_y, x, weight, mean, rstd):
    return torch.empty_like(x), torch.empty_like(weight), torch.empty_like(weight)


# The autograd of layer_norm_forward is registered in C++ (csrc/autograd/layer_norm.cpp): its backward node
# calls layer_norm_backward directly, without the Python round trips of torch.library.register_autograd.


def layer_norm(x, weight, bias, eps=1e-5):
    """Layer normalisation of ``x`` (..., D) with ``weight`` and ``bias`` (D,)."""
    if not isinstance(x, torch.Tensor) or x.dim() < 1:
        raise ValueError("layer_norm: x must be a tensor (..., D)")
    return _ops.layer_norm_forward(x, weight, bias, float(eps))[0]

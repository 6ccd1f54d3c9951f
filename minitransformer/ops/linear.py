"""The linear layer's matrix products on oneDNN: ``torch.ops.minitransformer.linear`` and its Python face.

    y = x W^T + b        dx = dy W        dW = dy^T x        db = sum_rows dy

x: (..., in), W: (out, in), b: (out,) or None. PyTorch ships two CPU GEMM libraries: ``F.linear`` calls
MKL's sgemm, and oneDNN (``torch.ops.mkldnn._linear_pointwise``, the op inductor lowers linear layers to)
is in every x86 build too. Which one is faster depends on the CPU: on the AMD EPYC (Zen 4) VMs this project
is measured on, MKL runs its AVX2 code path (its kernels are named ``*_zen``) and oneDNN its AVX-512 one. At
the model's shapes, one thread, oneDNN took 0.82-0.89 of MKL's time for dx and MKL 0.76-1.0 of oneDNN's
for dW, whose operands oneDNN's linear reads transposed (bench/results/linear.md, interleaved pairs). So y
and dx go to oneDNN, dW and db to torch (MKL); the tied output layer's chunked products
(nn/linear_cross_entropy.py) use it too. The result is the same float32 product: both libraries accumulate
in float32 with FMAs, in their own orders.

This op has no kernel of its own: it is the choice of library, measured. It runs for float32 CPU tensors
outside autocast in a torch built with oneDNN; anything else (CUDA, float64, half, autocast, a build without
oneDNN, one-dimensional or empty x) calls ``F.linear``.
"""

import torch
import torch.nn.functional as F


@torch.library.custom_op("minitransformer::linear", mutates_args=())
def _linear_op(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")  # (..., out)


@_linear_op.register_fake
def _linear_fake(x, weight, bias):
    return x.new_empty(*x.shape[:-1], weight.shape[0])


def _save_for_backward(ctx, inputs, output):
    x, weight, bias = inputs
    ctx.has_bias = bias is not None
    ctx.save_for_backward(x, weight)


def _backward(ctx, grad_y):
    x, weight = ctx.saved_tensors
    grad_x = grad_weight = grad_bias = None
    if ctx.needs_input_grad[0]:
        grad_x = _linear_op(grad_y, weight.t(), None)  # dy W, (..., in)
    grad_rows = grad_y.reshape(-1, grad_y.shape[-1])  # (rows, out)
    if ctx.needs_input_grad[1]:
        grad_weight = grad_rows.t() @ x.reshape(-1, x.shape[-1])  # (out, in)
    if ctx.has_bias and ctx.needs_input_grad[2]:
        grad_bias = grad_rows.sum(0)  # (out,)
    return grad_x, grad_weight, grad_bias


_linear_op.register_autograd(_backward, setup_context=_save_for_backward)


HAS_ONEDNN = torch.backends.mkldnn.is_available()  # read once: torch.compile does not trace torch.backends


def runs_on_onednn(x, weight):
    """Whether ``linear(x, weight, ...)`` takes the oneDNN path (else it calls ``F.linear``)."""
    return (HAS_ONEDNN and x.device.type == "cpu" and weight.device.type == "cpu"
            and x.dtype == weight.dtype == torch.float32 and not torch.is_autocast_enabled("cpu"))


def linear(x, weight, bias=None):
    """x @ weight.T + bias for x (..., in), weight (out, in), bias (out,) or None: ``F.linear``'s contract."""
    if not runs_on_onednn(x, weight) or x.dim() < 2 or x.numel() == 0 or \
            (bias is not None and bias.dtype != torch.float32):
        return F.linear(x, weight, bias)
    if x.shape[-1:] != weight.shape[1:] or weight.dim() != 2 or (bias is not None and bias.shape != weight.shape[:1]):
        raise ValueError(f"linear: x (..., in), weight (out, in), bias (out,) expected, got x {tuple(x.shape)}, "
                         f"weight {tuple(weight.shape)}, bias {None if bias is None else tuple(bias.shape)}")
    return _linear_op(x, weight, bias)

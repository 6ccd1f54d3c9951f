"""Softmax as a custom op: ``torch.ops.minitransformer.softmax`` and its Python face.

    y = softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x)          (along ``dim``)
    dL/dx = y * (dL/dy - sum(dL/dy * y))                                    (softmax_backward)

Backends of :func:`softmax`:

* ``"fused"`` (default) — our op on x's device: the C++ at::vec kernel on CPU, the best CUDA kernel
  (or ``version=k`` of the ladder, csrc/kernels/softmax_v*.cuh) on CUDA;
* ``"emulated"`` — CUDA kernel ``version`` executed on CPU tensors by the CUDA emulation layer.

On the CPU the op takes float32, float64, bfloat16 and float16, computing in float32 for the last two
(ops/dtypes.py); the CUDA kernels, on the GPU and emulated, take float32, float16 and bfloat16, also computing
in float32. The output has x's dtype. A 0-d x is a one-element row, as in ``torch.softmax``. A row whose
entries are all -inf gives zeros in both (``torch.softmax``, the baseline, gives NaN). The same softmax in
torch ops, ``exp(x - max) / sum``, is ``minitransformer.nn.softmax`` (nn/softmax.py).
"""

import torch

from minitransformer.ops._extension import kernel_versions  # importing _extension registers the ops

CUDA_VERSIONS = kernel_versions("softmax")
BACKENDS = ("fused", "emulated")

_ops = torch.ops.minitransformer


# --- fake (meta) kernels: shapes and dtypes only, for torch.compile and FakeTensor --------------------

def _check_fake_args(x, dim, op):
    if x.dim() == 0:
        raise RuntimeError(f"{op}: x must have at least one dimension, got a 0-d tensor")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: x must be a floating-point tensor, got {x.dtype}")
    if not -x.dim() <= dim < x.dim():
        raise RuntimeError(f"{op}: dim={dim} is out of range for x with {x.dim()} dimension(s)")


@torch.library.register_fake("minitransformer::softmax")
def _softmax_fake(x, dim):
    _check_fake_args(x, dim, "minitransformer::softmax")
    return x.new_empty(x.shape)


@torch.library.register_fake("minitransformer::softmax_kernel")
def _softmax_kernel_fake(x, dim, version):
    _check_fake_args(x, dim, "minitransformer::softmax_kernel")
    return x.new_empty(x.shape)


@torch.library.register_fake("minitransformer::softmax_backward")
def _softmax_backward_fake(y, grad_y, dim):
    _check_fake_args(y, dim, "minitransformer::softmax_backward")
    if y.shape != grad_y.shape:
        raise RuntimeError("minitransformer::softmax_backward: y and grad_y must have the same shape, "
                           f"got {tuple(y.shape)} and {tuple(grad_y.shape)}")
    return y.new_empty(y.shape)


# --- autograd ----------------------------------------------------------------------------------------

def _save_output(ctx, inputs, output):
    ctx.dim = inputs[1]
    ctx.save_for_backward(output)


def _softmax_grad(ctx, grad_y):
    (y,) = ctx.saved_tensors
    grad_x = _ops.softmax_backward(y, grad_y.contiguous(), ctx.dim)
    return (grad_x, None) if len(ctx.needs_input_grad) == 2 else (grad_x, None, None)


torch.library.register_autograd("minitransformer::softmax", _softmax_grad, setup_context=_save_output)
torch.library.register_autograd("minitransformer::softmax_kernel", _softmax_grad,
                                setup_context=_save_output)


def _save_backward_inputs(ctx, inputs, output):
    y, grad_y, ctx.dim = inputs
    ctx.save_for_backward(y, grad_y)


def _softmax_backward_grad(ctx, grad_dx):
    """Gradients of dx = y * (g - s), s = sum(y * g), for double backward:
    d/dg: y * (h - sum(h * y)) (softmax_backward again);  d/dy: h * (g - s) - g * sum(h * y)."""
    y, grad_y = ctx.saved_tensors
    dim = ctx.dim
    h = grad_dx
    h_dot_y = (h * y).sum(dim, keepdim=True)
    s = (y * grad_y).sum(dim, keepdim=True)
    grad_of_y = h * (grad_y - s) - grad_y * h_dot_y
    grad_of_grad_y = _ops.softmax_backward(y, h.contiguous(), dim)
    return grad_of_y, grad_of_grad_y, None


torch.library.register_autograd("minitransformer::softmax_backward", _softmax_backward_grad,
                                setup_context=_save_backward_inputs)


# --- the public function -----------------------------------------------------------------------------

def softmax(x, dim=-1, *, backend="fused", version=None):
    """Softmax of ``x`` along ``dim`` with the chosen backend (see the module docstring).

    ``version`` selects a rung of the CUDA kernel ladder (``kernel_versions("softmax")``); it applies to
    ``backend="fused"`` on CUDA tensors and to ``backend="emulated"``.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"softmax: x must be a torch.Tensor, got {type(x).__name__}")
    if backend not in BACKENDS:
        raise ValueError(f"softmax: backend must be one of {BACKENDS}, got {backend!r} "
                         "(softmax in torch ops: minitransformer.nn.softmax)")
    if version is not None and version not in CUDA_VERSIONS:
        raise ValueError(f"softmax: version must be one of {CUDA_VERSIONS} or None, got {version!r}")
    if x.dim() == 0:  # as torch.softmax: a scalar is a one-element row (so 1, or 0 for -inf), dim 0 or -1
        if dim not in (0, -1):
            raise ValueError(f"softmax: dim={dim} is out of range for a 0-d x (0 or -1)")
        return softmax(x.reshape(1), 0, backend=backend, version=version).reshape(())
    if backend == "emulated":
        from minitransformer.ops import emulated
        return emulated.softmax(x, dim, version=version or CUDA_VERSIONS[-1])
    if version is None:
        return _ops.softmax(x, dim)
    if not x.is_cuda:
        raise ValueError(f"softmax: version={version} selects a CUDA kernel but x is on {x.device}; "
                         "use backend='emulated' to run that kernel on the CPU")
    return _ops.softmax_kernel(x, dim, version)

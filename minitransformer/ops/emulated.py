"""CUDA kernels executed on CPU tensors by the CUDA emulation layer (csrc/emu/, docs/emulation.md).

The kernels of ``csrc/kernels/`` are compiled a second time with g++ against a C++20 header that
provides CUDA's builtins; ``emu::launch`` then runs every thread of every block on the CPU and checks
the synchronisation rules (divergent ``__syncthreads``, barriers after ``return``, warp masks naming
absent lanes, deadlocks), raising ``RuntimeError`` with the barrier's file:line.

Options shared by every emulated op:

* ``order`` — ``"forward"`` (default) | ``"reverse"`` | ``"shuffle"``: in what order the fibers of a
  block are resumed between synchronisation points; ``"shuffle"`` draws a new permutation per pass
  from ``seed``. A missing barrier shows as a wrong result in *some* order, so tests run all three.
* ``scheduler`` — ``"fibers"`` (default: deterministic, fast) | ``"threads"`` (one OS thread per CUDA
  thread, for ThreadSanitizer; the OS picks the order, so ``order`` must stay ``"forward"``).

The kernels take float32, float16 and bfloat16, like their CUDA launchers, and compute in float32 (the
output has the input's dtype); the ops are differentiable (the backward of
:func:`softmax` is the emulated ``softmax_backward_kernel``, run with the same options).
"""

import torch

from minitransformer.ops._extension import kernel_versions  # importing _extension registers the ops

ORDERS = ("forward", "reverse", "shuffle")
SCHEDULERS = ("fibers", "threads")
SOFTMAX_VERSIONS = kernel_versions("softmax")

_ops = torch.ops.minitransformer


def _check_options(op, order, seed, scheduler):
    if order not in ORDERS:
        raise ValueError(f"{op}: order must be one of {ORDERS}, got {order!r}")
    if scheduler not in SCHEDULERS:
        raise ValueError(f"{op}: scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
    if scheduler == "threads" and order != "forward":
        raise ValueError(f"{op}: order={order!r} needs scheduler='fibers' "
                         "(with threads the OS picks the order)")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise ValueError(f"{op}: seed must be an int in [0, 2**63), got {seed!r}")


# The dtypes every emulated op takes (softmax, attention and the training ops of ops/emulated_training.py).
KERNEL_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def _check_fake_inputs(op, **tensors):
    """The C++ checks the fake kernels repeat (csrc/emu/launch.h): every tensor has a dimension and a dtype in
    ``KERNEL_DTYPES``."""
    for name, t in tensors.items():
        if t.dim() == 0:
            raise RuntimeError(f"{op}: {name} must have at least one dimension, got a 0-d tensor")
        if t.dtype not in KERNEL_DTYPES:
            raise RuntimeError(f"{op}: {name} must be float32, float16 or bfloat16 (the dtypes of the CUDA kernels), "
                               f"got {t.dtype}")


@torch.library.register_fake("minitransformer::emulated_softmax")
def _softmax_fake(x, dim, version, order, seed, scheduler):
    _check_fake_inputs("minitransformer::emulated_softmax", x=x)
    return x.new_empty(x.shape)


@torch.library.register_fake("minitransformer::emulated_softmax_backward")
def _softmax_backward_fake(y, grad_y, dim, order, seed, scheduler):
    _check_fake_inputs("minitransformer::emulated_softmax_backward", y=y, grad_y=grad_y)
    if y.shape != grad_y.shape:
        raise RuntimeError("minitransformer::emulated_softmax_backward: y and grad_y must have the same "
                           f"shape, got {tuple(y.shape)} and {tuple(grad_y.shape)}")
    return y.new_empty(y.shape)


def _softmax_setup(ctx, inputs, output):
    x, ctx.dim, _, ctx.order, ctx.seed, ctx.scheduler = inputs
    ctx.save_for_backward(output)


def _softmax_grad(ctx, grad_y):
    (y,) = ctx.saved_tensors
    grad_x = _ops.emulated_softmax_backward(y, grad_y.contiguous(), ctx.dim, ctx.order, ctx.seed,
                                            ctx.scheduler)
    return grad_x, None, None, None, None, None


torch.library.register_autograd("minitransformer::emulated_softmax", _softmax_grad,
                                setup_context=_softmax_setup)


def softmax(x, dim=-1, *, version=SOFTMAX_VERSIONS[-1], order="forward", seed=0, scheduler="fibers"):
    """Softmax of CPU tensor ``x`` (float32, float16 or bfloat16) along ``dim`` by CUDA kernel ``version``, emulated.

    ``order``, ``seed``, ``scheduler``: see the module docstring. A row of all -inf gives zeros.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"emulated.softmax: x must be a torch.Tensor, got {type(x).__name__}")
    if version not in SOFTMAX_VERSIONS:
        raise ValueError(f"emulated.softmax: version must be one of {SOFTMAX_VERSIONS}, got {version!r}")
    _check_options("emulated.softmax", order, seed, scheduler)
    return _ops.emulated_softmax(x, dim, version, order, seed, scheduler)


def softmax_backward(y, grad_y, dim=-1, *, order="forward", seed=0, scheduler="fibers"):
    """dL/dx = y * (g - sum(g * y)) along ``dim`` by the CUDA ``softmax_backward_kernel``, emulated."""
    for name, t in (("y", y), ("grad_y", grad_y)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"emulated.softmax_backward: {name} must be a torch.Tensor, "
                            f"got {type(t).__name__}")
    _check_options("emulated.softmax_backward", order, seed, scheduler)
    return _ops.emulated_softmax_backward(y, grad_y, dim, order, seed, scheduler)

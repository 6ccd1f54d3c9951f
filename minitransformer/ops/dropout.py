"""Counter-based dropout added to a residual, as a custom op: ``torch.ops.minitransformer.dropout_*`` and
its Python face.

    y = residual + x m / (1 - p),      dx = dy m / (1 - p),      d residual = dy

m is the keep mask of Philox4x32-10 (reference/dropout.py has the layout): a pure function of (seed,
offset, element index), so the backward recomputes it instead of storing it, and it is the same bits on
every thread count and in the NumPy reference. The seed of each call is drawn from torch's default
generator, so ``torch.manual_seed`` makes a training run reproducible. The same in torch ops:
``residual + nn.dropout(x, p)`` (nn/dropout.py), whose mask comes from ``torch.rand``.

The C++ ops take the seed as an int. The Python face draws it as a tensor and passes it to two thin
custom ops, ``dropout_add_seeded`` and ``dropout_backward_seeded``, which read it only when they run: a
torch.compile graph keeps the draw inside it instead of splitting where an int would be read while tracing.
"""

from typing import Optional

import torch

from minitransformer.ops import _extension  # noqa: F401  (registers torch.ops.minitransformer)

SEED_BOUND = 2**63  # seeds lie in [0, SEED_BOUND): the op's int arguments are signed 64-bit

_ops = torch.ops.minitransformer


@torch.library.register_fake("minitransformer::dropout_add_forward")
def _forward_fake(x, residual, p, seed, offset):
    if residual is not None and residual.shape != x.shape:
        raise RuntimeError(f"minitransformer::dropout_add_forward: residual must have x's shape {tuple(x.shape)}, "
                           f"got {tuple(residual.shape)}")
    return torch.empty_like(x)


@torch.library.register_fake("minitransformer::dropout_backward")
def _backward_fake(grad_y, p, seed, offset):
    return torch.empty_like(grad_y)


def _save_for_backward(ctx, inputs, output):
    _, residual, ctx.p, ctx.seed, ctx.offset = inputs
    ctx.has_residual = residual is not None


def _backward(ctx, grad_y):
    grad_x = _ops.dropout_backward(grad_y.contiguous(), ctx.p, ctx.seed, ctx.offset)
    return grad_x, grad_y if ctx.has_residual else None, None, None, None


torch.library.register_autograd("minitransformer::dropout_add_forward", _backward, setup_context=_save_for_backward)


@torch.library.custom_op("minitransformer::dropout_add_seeded", mutates_args=())
def _add_seeded(x: torch.Tensor, residual: Optional[torch.Tensor], p: float, seed: torch.Tensor,
                offset: int) -> torch.Tensor:
    return _ops.dropout_add_forward(x, residual, p, int(seed), offset)


@torch.library.custom_op("minitransformer::dropout_backward_seeded", mutates_args=())
def _backward_seeded(grad_y: torch.Tensor, p: float, seed: torch.Tensor, offset: int) -> torch.Tensor:
    return _ops.dropout_backward(grad_y.contiguous(), p, int(seed), offset)


@_add_seeded.register_fake
def _add_seeded_fake(x, residual, p, seed, offset):
    return _forward_fake(x, residual, p, 0, offset)


@_backward_seeded.register_fake
def _backward_seeded_fake(grad_y, p, seed, offset):
    return torch.empty_like(grad_y)


def _save_seed_for_backward(ctx, inputs, output):
    _, residual, ctx.p, seed, ctx.offset = inputs
    ctx.has_residual = residual is not None
    ctx.save_for_backward(seed)


def _seeded_backward(ctx, grad_y):
    (seed,) = ctx.saved_tensors
    grad_x = _backward_seeded(grad_y, ctx.p, seed, ctx.offset)
    return grad_x, grad_y if ctx.has_residual else None, None, None, None


_add_seeded.register_autograd(_seeded_backward, setup_context=_save_seed_for_backward)


def draw_seed():
    """A dropout seed, a 0-d int64 tensor, from torch's default generator (so ``torch.manual_seed`` fixes it)."""
    return torch.randint(0, SEED_BOUND - 1, (), dtype=torch.int64)


def dropout_add(x, residual, p, training=True, seed=None, offset=0):
    """``residual + dropout(x, p)`` (``residual`` may be None: plain dropout); the identity on x when not
    training or p == 0. ``seed`` defaults to a fresh draw from torch's generator."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout_add: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x if residual is None else x + residual
    seed = draw_seed() if seed is None else torch.tensor(seed, dtype=torch.int64)
    return _add_seeded(x, residual, float(p), seed, offset)


def dropout_mask(shape, p, seed, offset=0):
    """The keep mask (bool) the op draws for a tensor of ``shape`` with ``seed`` and ``offset``."""
    return _ops.dropout_mask(list(shape), float(p), seed, offset)

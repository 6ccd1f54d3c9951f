"""Fused (flash) attention as custom ops: ``torch.ops.minitransformer.attention_*`` and their Python face.

Scaled dot-product attention (Vaswani et al. 2017, eq. 1) computed the FlashAttention way (Dao et al.
2022; Dao 2023, "FlashAttention-2"): tile by tile with an online softmax, never materialising the
N_q x N_k matrix, saving only the row logsumexp for the backward:

    S = scale * Q K^T (+ masks),   lse = logsumexp_rows(S),   out = exp(S - lse) V

Shapes: q (B, H, N_q, D), k and v (B, H, N_k, D); ``key_padding_mask`` (B, N_k) bool, **True = masked**
(a padding key no query sees); ``causal=True`` lets query i see keys j <= i (top-left aligned, as
``F.scaled_dot_product_attention(is_causal=True)``); ``scale`` defaults to 1/sqrt(D). A query whose
keys are all masked gets output 0 and zero gradients (never NaN).

Backends of :func:`attention`:

* ``"fused"`` (default) — our op on q's device: tiled BLAS GEMMs + at::vec online softmax on the CPU
  (csrc/cpu/attention_forward.cpp; float32 and float64, and bfloat16 and float16 computed in float32, lse
  float32: ops/dtypes.py; the output and the gradients of q, k and v are (B, H, N, D) views of (B, N, H, D)
  memory, so that joining the heads back into (B, N, H D), and splitting them in the backward, is free); the
  best CUDA kernel on the GPU (float32, float16, bfloat16; D a multiple of 8 in 16..128), or rung
  ``version`` of the ladder (csrc/kernels/attention_v*.cuh); the best kernel for float32 leaves out the
  tensor-core rungs (``TENSOR_CORE_VERSIONS``), which round to half precision;
* ``"emulated"`` — CUDA kernel ``version`` run on CPU tensors by the CUDA emulator (csrc/emu/): float32, float16
  and bfloat16, as on CUDA (lse float32).

The same attention in torch ops (``"eager"``) and through ``F.scaled_dot_product_attention`` (``"torch"``)
is ``minitransformer.nn.scaled_dot_product_attention`` (nn/attention.py), the one torch implementation.
"""

import torch

from minitransformer.ops._extension import kernel_versions  # importing _extension registers the ops
from minitransformer.ops.dtypes import compute_dtype

_ops = torch.ops.minitransformer

CUDA_VERSIONS = kernel_versions("attention")
# The rungs whose products run on tensor cores (csrc/kernels/attention_v4.cuh): they round q, k, v and P to
# float16 (bfloat16 for bfloat16 inputs), so they are never the default for float32 inputs, and their
# relative error against the float64 reference is bounded by TENSOR_CORE_TOLERANCE, not float32's: with
# float16's round-off u = 2^-11 ≈ 4.9e-4, ≈ 0.8 u measured under the emulator; 2e-3 ≈ 4 u.
TENSOR_CORE_VERSIONS = tuple(_ops.attention_tensor_core_versions())
TENSOR_CORE_TOLERANCE = 2e-3
BACKENDS = ("fused", "emulated")


# --- fake (meta) kernels: shapes and dtypes only, for torch.compile and FakeTensor --------------------

def _check_fake_inputs(op, q, k, v, key_padding_mask):
    if q.dim() != 4 or k.dim() != 4:
        raise RuntimeError(f"{op}: q and k must have shape (B, H, N, D), got {tuple(q.shape)} and {tuple(k.shape)}")
    if k.shape != v.shape:
        raise RuntimeError(f"{op}: k and v must have the same shape, got {tuple(k.shape)} and {tuple(v.shape)}")
    if q.shape[:2] != k.shape[:2] or q.shape[3] != k.shape[3]:
        raise RuntimeError(f"{op}: q {tuple(q.shape)} and k {tuple(k.shape)} must agree in B, H and D")
    if not (q.dtype == k.dtype == v.dtype):
        raise RuntimeError(f"{op}: q, k and v must have the same dtype, got {q.dtype}, {k.dtype} and {v.dtype}")
    if not (q.device == k.device == v.device):
        raise RuntimeError(f"{op}: q, k and v must be on the same device, got {q.device}, {k.device} and {v.device}")
    if key_padding_mask is not None and tuple(key_padding_mask.shape) != (k.shape[0], k.shape[2]):
        raise RuntimeError(f"{op}: key_padding_mask must have shape (B, N_k) = {(k.shape[0], k.shape[2])}, "
                           f"got {tuple(key_padding_mask.shape)}")


def _empty_like(t, heads_last):
    """An empty (B, H, N, D) tensor like ``t``: contiguous, or in (B, N, H, D) memory as the CPU kernels make
    their output and gradients."""
    if not heads_last:
        return torch.empty(t.shape, dtype=t.dtype, device=t.device)
    batch, heads, length, dim = t.shape
    return torch.empty((batch, length, heads, dim), dtype=t.dtype, device=t.device).transpose(1, 2)


def _forward_fake(op):
    def fake(q, k, v, causal, key_padding_mask, scale, *options):
        _check_fake_inputs(op, q, k, v, key_padding_mask)
        out = _empty_like(q, heads_last=op == "minitransformer::attention_forward" and q.device.type == "cpu")
        return out, torch.empty(q.shape[:3], dtype=compute_dtype(q.dtype), device=q.device)
    return fake


def _backward_fake(op):
    def fake(q, k, v, out, lse, grad_out, causal, key_padding_mask, scale, *options):
        _check_fake_inputs(op, q, k, v, key_padding_mask)
        if out.shape != q.shape or grad_out.shape != q.shape:
            raise RuntimeError(f"{op}: out and grad_out must have q's shape {tuple(q.shape)}")
        heads_last = op == "minitransformer::attention_backward" and q.device.type == "cpu"
        return tuple(_empty_like(t, heads_last) for t in (q, k, v))
    return fake


for _name in ("attention_forward", "attention_kernel", "emulated_attention_forward"):
    torch.library.register_fake(f"minitransformer::{_name}", _forward_fake(f"minitransformer::{_name}"))
for _name in ("attention_backward", "emulated_attention_backward"):
    torch.library.register_fake(f"minitransformer::{_name}", _backward_fake(f"minitransformer::{_name}"))


# --- autograd: the backward is the attention_backward op (P recomputed from lse) ----------------------

def _setup_context_of(emulated):
    """The setup_context of a forward op; ``emulated``: its backward is the emulated kernel."""
    def setup_context(ctx, inputs, output):
        # options: attention_kernel (version,), emulated (version, order, seed, scheduler)
        q, k, v, ctx.causal, key_padding_mask, ctx.scale, *ctx.options = inputs
        out, lse = output
        ctx.mark_non_differentiable(lse)
        ctx.emulated = emulated
        ctx.save_for_backward(q, k, v, out, lse, key_padding_mask)
    return setup_context


def _backward(ctx, grad_out, _grad_lse):
    q, k, v, out, lse, key_padding_mask = ctx.saved_tensors
    args = (q, k, v, out, lse, grad_out, ctx.causal, key_padding_mask, ctx.scale)  # each backend copies what it must
    if ctx.emulated:  # the options after the version: (order, seed, scheduler); the backward kernel has no version
        grads = _ops.emulated_attention_backward(*args, *ctx.options[1:])
    else:  # attention_forward, and attention_kernel (a CUDA rung): the backward kernel of q's device
        grads = _ops.attention_backward(*args)
    return (*grads, None, None, None, *(None for _ in ctx.options))


for _name in ("attention_forward", "attention_kernel", "emulated_attention_forward"):
    torch.library.register_autograd(f"minitransformer::{_name}", _backward,
                                    setup_context=_setup_context_of(emulated=_name.startswith("emulated")))


# --- the public function -----------------------------------------------------------------------------

def _check_args(q, k, v, key_padding_mask, backend, version):
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"attention: {name} must be a torch.Tensor, got {type(t).__name__}")
    if key_padding_mask is not None and (not isinstance(key_padding_mask, torch.Tensor)
                                         or key_padding_mask.dtype != torch.bool):
        raise ValueError("attention: key_padding_mask must be a bool tensor (B, N_k) with True = masked")
    if backend not in BACKENDS:
        raise ValueError(f"attention: backend must be one of {BACKENDS}, got {backend!r} "
                         "(eager and SDPA attention: minitransformer.nn.scaled_dot_product_attention)")
    if version is not None and version not in CUDA_VERSIONS:
        raise ValueError(f"attention: version must be one of {CUDA_VERSIONS} or None, got {version!r}")


def attention(q, k, v, *, causal=False, key_padding_mask=None, scale=None, backend="fused", version=None,
              order="forward", seed=0, scheduler="fibers"):
    """Scaled dot-product attention of q (B, H, N_q, D) over k, v (B, H, N_k, D) -> (B, H, N_q, D).

    ``backend`` and the masks: see the module docstring. ``version`` picks a rung of the CUDA ladder
    (``kernel_versions("attention")``) for ``"fused"`` on CUDA tensors and for ``"emulated"`` (default:
    the best for q's dtype); ``order``, ``seed`` and ``scheduler`` are the emulator's options (ops/emulated.py).
    """
    _check_args(q, k, v, key_padding_mask, backend, version)
    scale = None if scale is None else float(scale)
    if backend == "emulated":
        return _ops.emulated_attention_forward(q, k, v, causal, key_padding_mask, scale,
                                               version, order, seed, scheduler)[0]
    if version is None:
        return _ops.attention_forward(q, k, v, causal, key_padding_mask, scale)[0]
    if not q.is_cuda:
        raise ValueError(f"attention: version={version} selects a CUDA kernel but q is on {q.device}; "
                         "use backend='emulated' to run that kernel on the CPU")
    return _ops.attention_kernel(q, k, v, causal, key_padding_mask, scale, version)[0]

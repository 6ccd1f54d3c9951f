"""Scaled dot-product attention (Vaswani et al. 2017, "Attention Is All You Need", eq. 1):

    Attention(Q, K, V) = softmax(Q K^T * s + M) V,        s = 1/sqrt(D) by default

q (B, H, N_q, D), k (B, H, N_k, D), v (B, H, N_k, D_v)  ->  out (B, H, N_q, D_v).
M is 0 where query i may attend to key j and -inf where it may not. Masks (nn.MultiheadAttention's
convention, **True means masked**):

* ``key_padding_mask`` bool (B, N_k): key j of batch b is padding;
* ``attn_mask`` (N_q, N_k) or broadcastable to (B, H, N_q, N_k): bool (True = masked) or float (added);
* ``is_causal``: query i sees keys j <= i (top-left aligned, as F.scaled_dot_product_attention).

A query row with every key masked has no distribution: its output is 0 (never NaN) in every backend.

The backends (nn/backends.py): ``"eager"`` — the formula above in torch ops (:func:`eager_attention`, with
the safe softmax of nn/softmax.py); ``"torch"`` — ``F.scaled_dot_product_attention``; ``"fused"`` —
``minitransformer.ops.attention``, our kernel, which supports ``is_causal`` and ``key_padding_mask`` but
neither ``attn_mask`` nor attention dropout: asking for either raises (no silent fallback: the caller
chooses the backend). This file is the only torch implementation of attention; ops/ holds the custom op.
"""

import math

import torch
import torch.nn.functional as F

from minitransformer.nn._checks import check_probability, check_tensor
from minitransformer.nn.backends import check_attention_dropout, load_fused_op, resolve_backend
from minitransformer.nn.softmax import softmax


def _check_masks(q, k, attn_mask, key_padding_mask):
    batch, n_queries, n_keys = q.shape[0], q.shape[2], k.shape[2]
    if key_padding_mask is not None:
        if not isinstance(key_padding_mask, torch.Tensor) or key_padding_mask.dtype != torch.bool:
            raise ValueError("key_padding_mask must be a bool tensor (True = masked)")
        if tuple(key_padding_mask.shape) != (batch, n_keys):
            raise ValueError(f"key_padding_mask must have shape (B, N_k) = {(batch, n_keys)}, "
                             f"got {tuple(key_padding_mask.shape)}")
    if attn_mask is not None:
        if not isinstance(attn_mask, torch.Tensor) or not 2 <= attn_mask.dim() <= 4:
            raise ValueError(f"attn_mask must be a tensor with 2 to 4 dimensions, got "
                             f"{getattr(attn_mask, 'shape', type(attn_mask).__name__)}")
        try:
            torch.broadcast_shapes(attn_mask.shape, (batch, q.shape[1], n_queries, n_keys))
        except RuntimeError:
            raise ValueError(f"attn_mask of shape {tuple(attn_mask.shape)} does not broadcast to "
                             f"(B, H, N_q, N_k) = {(batch, q.shape[1], n_queries, n_keys)}") from None


def attention_bias(q, k, attn_mask=None, key_padding_mask=None, is_causal=False):
    """The additive mask M broadcastable to (B, H, N_q, N_k): 0 = attend, -inf = masked (or None)."""
    n_queries, n_keys = q.shape[2], k.shape[2]
    bias = None
    if attn_mask is not None:
        bias = (torch.zeros(attn_mask.shape, dtype=q.dtype, device=q.device).masked_fill(attn_mask, -math.inf)
                if attn_mask.dtype == torch.bool else attn_mask.to(q.dtype))
        bias = bias.reshape((1,) * (4 - bias.dim()) + tuple(bias.shape))
    masked = None
    if is_causal:
        future = torch.ones(n_queries, n_keys, dtype=torch.bool, device=q.device).triu(1)
        masked = future[None, None]  # (1, 1, N_q, N_k)
    if key_padding_mask is not None:
        padding = key_padding_mask[:, None, None, :]  # (B, 1, 1, N_k)
        masked = padding if masked is None else masked | padding
    if masked is not None:
        mask_bias = torch.zeros(masked.shape, dtype=q.dtype, device=q.device).masked_fill(masked, -math.inf)
        bias = mask_bias if bias is None else bias + mask_bias
    return bias


def eager_attention(q, k, v, bias=None, dropout_p=0.0, scale=None, training=True):
    """(out, weights): softmax(q k^T * scale + bias) with dropout on the weights, times v."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale  # (B, H, N_q, N_k)
    if bias is not None:
        scores = scores + bias
    weights = softmax(scores, -1)  # (B, H, N_q, N_k)
    if training and dropout_p > 0.0:
        weights = weights * (torch.rand_like(weights) >= dropout_p) / (1.0 - dropout_p)
    return weights @ v, weights  # (B, H, N_q, D_v), (B, H, N_q, N_k)


def _torch_attention(q, k, v, bias, dropout_p, scale, training, is_causal):
    dropout_p = dropout_p if training else 0.0
    if bias is None:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=is_causal, scale=scale)
    # SDPA gives NaN for fully masked rows: open those rows up, then zero their output.
    dead_rows = torch.isneginf(bias).all(-1, keepdim=True)  # (B|1, H|1, N_q, 1)
    bias = torch.where(dead_rows, torch.zeros_like(bias), bias)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout_p, scale=scale)
    return torch.where(dead_rows, torch.zeros_like(out), out)


def _fused_attention(q, k, v, attn_mask, key_padding_mask, is_causal, dropout_p, scale, training):
    if attn_mask is not None:
        raise ValueError("attn_mask is not supported by backend='fused' (use is_causal / key_padding_mask, "
                         "or backend='eager')")
    check_attention_dropout("fused", dropout_p if training else 0.0)
    if v.shape[-1] != q.shape[-1]:
        raise ValueError(f"backend='fused' needs v's head dim {v.shape[-1]} equal to q's {q.shape[-1]}")
    attention = load_fused_op("attention")
    return attention(q, k, v, causal=is_causal, key_padding_mask=key_padding_mask, scale=scale, backend="fused")


def scaled_dot_product_attention(q, k, v, *, attn_mask=None, key_padding_mask=None, is_causal=False,
                                 dropout_p=0.0, scale=None, training=True, backend="eager"):
    """Attention output (B, H, N_q, D_v) with the chosen ``backend`` (see the module docstring)."""
    check_tensor("q", q, ndim=4)
    check_tensor("k", k, ndim=4)
    check_tensor("v", v, ndim=4)
    if q.shape[:2] != k.shape[:2] or q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q {tuple(q.shape)} and k {tuple(k.shape)} must agree in B, H and D")
    if k.shape[:3] != v.shape[:3]:
        raise ValueError(f"k {tuple(k.shape)} and v {tuple(v.shape)} must agree in B, H and N_k")
    check_probability("dropout_p", dropout_p)
    backend = resolve_backend(backend)
    _check_masks(q, k, attn_mask, key_padding_mask)
    if backend == "fused":
        return _fused_attention(q, k, v, attn_mask, key_padding_mask, is_causal, dropout_p, scale, training)
    if backend == "torch" and attn_mask is None and key_padding_mask is None:
        return _torch_attention(q, k, v, None, dropout_p, scale, training, is_causal)
    bias = attention_bias(q, k, attn_mask, key_padding_mask, is_causal)
    if backend == "torch":
        return _torch_attention(q, k, v, bias, dropout_p, scale, training, False)
    return eager_attention(q, k, v, bias, dropout_p, scale, training)[0]

"""Scaled dot-product attention, forward and backward, in NumPy float64.

Vaswani et al., "Attention Is All You Need" (2017), eq. 1, with the logsumexp bookkeeping of
Dao et al., "FlashAttention-2" (2023), Algorithms 1-2. Shapes: q (B, H, N_q, D), k and v (B, H, N_k, D).

Forward, for query i and key j (s = ``scale``, default 1/sqrt(D)):

    S_ij   = s * q_i . k_j                     masked entries set to -inf
    lse_i  = log sum_j exp(S_ij)               (the row logsumexp, saved for the backward)
    P_ij   = exp(S_ij - lse_i)                 (softmax over the keys)
    out_i  = sum_j P_ij v_j

Backward, given dO = dL/dout:

    dV_j   = sum_i P_ij dO_i
    dP_ij  = dO_i . v_j
    Delta_i = sum_j P_ij dP_ij = dO_i . out_i
    dS_ij  = P_ij (dP_ij - Delta_i)
    dQ_i   = s * sum_j dS_ij k_j,     dK_j = s * sum_i dS_ij q_i

Masks (the same convention as the ``minitransformer::attention_*`` ops):

* ``causal=True`` aligns top-left, as ``torch.nn.functional.scaled_dot_product_attention(is_causal=True)``:
  query i sees keys j <= i (also when N_q != N_k).
* ``key_padding_mask`` is a bool array (B, N_k); **True means masked** (the key is padding and no query
  attends to it).

A query row with every key masked has no distribution: its output is 0, its lse is -inf and every
gradient through it is 0 — never NaN.
"""

import numpy as np


def _check_inputs(q, k, v, key_padding_mask):
    for name, array in (("q", q), ("k", k), ("v", v)):
        if array.ndim != 4:
            raise ValueError(f"{name} must have shape (B, H, N, D), got {array.shape}")
    if k.shape != v.shape:
        raise ValueError(f"k and v must have the same shape, got {k.shape} and {v.shape}")
    if q.shape[:2] != k.shape[:2] or q.shape[3] != k.shape[3]:
        raise ValueError(f"q {q.shape} and k {k.shape} must agree in B, H and D")
    if key_padding_mask is not None:
        expected = (k.shape[0], k.shape[2])
        if key_padding_mask.shape != expected:
            raise ValueError(f"key_padding_mask must have shape (B, N_k) = {expected}, "
                             f"got {key_padding_mask.shape}")


def allowed_keys(n_queries, n_keys, batch, causal=False, key_padding_mask=None):
    """Bool (B, 1, N_q, N_k): True where query i may attend to key j."""
    allowed = np.ones((batch, 1, n_queries, n_keys), dtype=bool)
    if causal:
        allowed &= np.tril(np.ones((n_queries, n_keys), dtype=bool))  # j <= i, top-left aligned
    if key_padding_mask is not None:
        allowed &= ~np.asarray(key_padding_mask, dtype=bool)[:, None, None, :]
    return allowed


def _probabilities(q, k, causal, key_padding_mask, scale):
    """P (B, H, N_q, N_k) and lse (B, H, N_q); rows with no allowed key give P = 0, lse = -inf."""
    scores = scale * np.einsum("bhid,bhjd->bhij", q, k)  # (B, H, N_q, N_k)
    allowed = allowed_keys(q.shape[2], k.shape[2], q.shape[0], causal, key_padding_mask)
    scores = np.where(allowed, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True, initial=-np.inf)
    safe_max = np.where(np.isneginf(row_max), 0.0, row_max)  # exp(-inf - 0) = 0 on empty rows
    exps = np.exp(scores - safe_max)
    row_sum = exps.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        lse = np.where(row_sum > 0, safe_max + np.log(row_sum), -np.inf)  # (B, H, N_q, 1)
    probs = np.divide(exps, row_sum, out=np.zeros_like(exps), where=row_sum > 0)
    return probs, lse[..., 0]


def _as_float64(q, k, v, key_padding_mask):
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    if key_padding_mask is not None:
        key_padding_mask = np.asarray(key_padding_mask, dtype=bool)
    _check_inputs(q, k, v, key_padding_mask)
    return q, k, v, key_padding_mask


def attention_forward(q, k, v, causal=False, key_padding_mask=None, scale=None):
    """Return ``(out, lse)``: out (B, H, N_q, D) and the row logsumexp lse (B, H, N_q) of the scaled,
    masked scores. ``scale`` defaults to 1/sqrt(D)."""
    q, k, v, key_padding_mask = _as_float64(q, k, v, key_padding_mask)
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else float(scale)
    probs, lse = _probabilities(q, k, causal, key_padding_mask, scale)
    out = np.einsum("bhij,bhjd->bhid", probs, v)  # (B, H, N_q, D)
    return out, lse


def attention_backward(q, k, v, out, lse, grad_out, causal=False, key_padding_mask=None, scale=None):
    """Return ``(dq, dk, dv)`` given the forward's ``out``, ``lse`` and ``grad_out`` = dL/dout.

    P is recomputed from the saved lse (P = exp(S - lse)), as FlashAttention-2's backward does.
    """
    q, k, v, key_padding_mask = _as_float64(q, k, v, key_padding_mask)
    out = np.asarray(out, dtype=np.float64)
    lse = np.asarray(lse, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    if out.shape != q.shape or grad_out.shape != q.shape:
        raise ValueError(f"out {out.shape} and grad_out {grad_out.shape} must have q's shape {q.shape}")
    if lse.shape != q.shape[:3]:
        raise ValueError(f"lse must have shape (B, H, N_q) = {q.shape[:3]}, got {lse.shape}")
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else float(scale)

    scores = scale * np.einsum("bhid,bhjd->bhij", q, k)  # (B, H, N_q, N_k)
    allowed = allowed_keys(q.shape[2], k.shape[2], q.shape[0], causal, key_padding_mask)
    allowed = allowed & np.isfinite(lse)[..., None]  # empty rows: P = 0
    safe_lse = np.where(np.isfinite(lse), lse, 0.0)[..., None]
    probs = np.where(allowed, np.exp(np.where(allowed, scores, 0.0) - safe_lse), 0.0)

    grad_v = np.einsum("bhij,bhid->bhjd", probs, grad_out)  # (B, H, N_k, D)
    grad_probs = np.einsum("bhid,bhjd->bhij", grad_out, v)  # (B, H, N_q, N_k)
    delta = np.sum(grad_out * out, axis=-1, keepdims=True)  # (B, H, N_q, 1)
    grad_scores = probs * (grad_probs - delta)  # (B, H, N_q, N_k)
    grad_q = scale * np.einsum("bhij,bhjd->bhid", grad_scores, k)
    grad_k = scale * np.einsum("bhij,bhid->bhjd", grad_scores, q)
    return grad_q, grad_k, grad_v

"""Multi-head attention (Vaswani et al. 2017, section 3.2.2), forward and backward, in NumPy float64,
composed from linear.py and the attention core in attention.py.

    Q = query W_q^T + b_q,  K = key W_k^T + b_k,  V = value W_v^T + b_v       (B, N, E) each
    split into H heads (B, H, N, E/H);  O = Attention(Q, K, V);  out = concat(O) W_o^T + b_o

``params`` is a dict with q_weight, q_bias, k_weight, k_bias, v_weight, v_bias, out_weight, out_bias.
The backward runs the chain rule in reverse and returns the gradients with the same keys plus
"query", "key", "value".
"""

import numpy as np

from minitransformer.reference.attention import attention_backward, attention_forward
from minitransformer.reference.linear import linear_backward, linear_forward


def _split(x, nhead):
    batch, length, width = x.shape
    return x.reshape(batch, length, nhead, width // nhead).transpose(0, 2, 1, 3)  # (B, H, N, D)


def _merge(x):
    batch, nhead, length, head_dim = x.shape
    return x.transpose(0, 2, 1, 3).reshape(batch, length, nhead * head_dim)  # (B, N, E)


def mha_forward(query, key, value, params, nhead, causal=False, key_padding_mask=None):
    """Return ``(out, cache)``."""
    query, key, value = (np.asarray(a, dtype=np.float64) for a in (query, key, value))
    q = _split(linear_forward(query, params["q_weight"], params["q_bias"]), nhead)
    k = _split(linear_forward(key, params["k_weight"], params["k_bias"]), nhead)
    v = _split(linear_forward(value, params["v_weight"], params["v_bias"]), nhead)
    heads, lse = attention_forward(q, k, v, causal=causal, key_padding_mask=key_padding_mask)
    concat = _merge(heads)
    out = linear_forward(concat, params["out_weight"], params["out_bias"])
    return out, (query, key, value, q, k, v, heads, lse, concat, params, nhead, causal, key_padding_mask)


def mha_backward(grad_out, cache):
    query, key, value, q, k, v, heads, lse, concat, params, nhead, causal, key_padding_mask = cache
    grads = {}
    grad_concat, grads["out_weight"], grads["out_bias"] = linear_backward(concat, params["out_weight"], grad_out)
    grad_q, grad_k, grad_v = attention_backward(q, k, v, heads, lse, _split(grad_concat, nhead), causal=causal,
                                                key_padding_mask=key_padding_mask)
    grads["query"], grads["q_weight"], grads["q_bias"] = linear_backward(query, params["q_weight"], _merge(grad_q))
    grads["key"], grads["k_weight"], grads["k_bias"] = linear_backward(key, params["k_weight"], _merge(grad_k))
    grads["value"], grads["v_weight"], grads["v_bias"] = linear_backward(value, params["v_weight"], _merge(grad_v))
    return grads

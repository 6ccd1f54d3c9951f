"""A post-norm or pre-norm Transformer decoder layer in NumPy float64 (Vaswani et al. 2017, section 3.1):
causal self-attention, cross-attention to the encoder output ("memory"), feed-forward; evaluation mode.

    post-norm:  a = LN1(t + SelfAttn(t));   b = LN2(a + CrossAttn(a, m));   y = LN3(b + FFN(b))
    pre-norm:   a = t + SelfAttn(LN1 t);    b = a + CrossAttn(LN2 a, m);    y = b + FFN(LN3 b)

The backward returns (dL/dt, dL/dm): the memory receives the key and value gradients of the
cross-attention; everything else flows back through the residual stream as in encoder_layer.py.
"""

from minitransformer.reference.feedforward import feedforward_backward, feedforward_forward
from minitransformer.reference.layernorm import layernorm_backward, layernorm_forward
from minitransformer.reference.multihead_attention import mha_backward, mha_forward


def decoder_layer_forward(tgt, memory, params, nhead, norm_first=False, activation="relu", eps=1e-5,
                          memory_key_padding_mask=None):
    """Return ``(y, backward)``, backward(dL/dy) = (dL/dtgt, dL/dmemory).

    ``params``: "self_attn" and "cross_attn" (dicts of multihead_attention.py's keys), w1, b1, w2, b2,
    norm{1,2,3}_weight, norm{1,2,3}_bias."""
    grads_of_memory = []

    def self_attention(h):
        out, cache = mha_forward(h, h, h, params["self_attn"], nhead, causal=True)

        def backward(grad):
            grads = mha_backward(grad, cache)
            return grads["query"] + grads["key"] + grads["value"]
        return out, backward

    def cross_attention(h):
        out, cache = mha_forward(h, memory, memory, params["cross_attn"], nhead,
                                 key_padding_mask=memory_key_padding_mask)

        def backward(grad):
            grads = mha_backward(grad, cache)
            grads_of_memory.append(grads["key"] + grads["value"])
            return grads["query"]
        return out, backward

    def feed_forward(h):
        out, cache = feedforward_forward(h, params["w1"], params["b1"], params["w2"], params["b2"], activation)
        return out, lambda grad: feedforward_backward(grad, cache)[0]

    def norm(index, h):
        out, cache = layernorm_forward(h, params[f"norm{index}_weight"], params[f"norm{index}_bias"], eps)
        return out, lambda grad: layernorm_backward(grad, cache)[0]

    x, backwards = tgt, []
    for index, sublayer in enumerate((self_attention, cross_attention, feed_forward), start=1):
        if norm_first:  # x + f(LN x): d/dx = g + LN'(f'(g))
            normed, norm_back = norm(index, x)
            out, sub_back = sublayer(normed)
            x = x + out
            backwards.append(lambda g, n=norm_back, f=sub_back: g + n(f(g)))
        else:  # LN(x + f(x)): d/dx = s + f'(s), s = LN'(g)
            out, sub_back = sublayer(x)
            x, norm_back = norm(index, x + out)
            backwards.append(lambda g, n=norm_back, f=sub_back: (lambda s: s + f(s))(n(g)))

    def backward(grad_y):
        grads_of_memory.clear()
        grad = grad_y
        for step in reversed(backwards):
            grad = step(grad)
        return grad, grads_of_memory[0]

    return x, backward

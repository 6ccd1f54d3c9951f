"""A post-norm or pre-norm Transformer encoder layer in NumPy float64 (Vaswani et al. 2017, section 3.1;
Xiong et al. 2020), composed from multihead_attention.py, feedforward.py and layernorm.py; evaluation
mode (no dropout).

    post-norm:  h = LN1(x + MHA(x));          y = LN2(h + FFN(h))
    pre-norm:   h = x + MHA(LN1(x));          y = h + FFN(LN2(h))

The backward returns dL/dx only, by the chain rule through the same pieces: a residual x + f(x) passes
the gradient on twice, g + f'(x)^T g; self-attention's x is query, key and value at once, so its input
gradient is the sum of the three.
"""

from minitransformer.reference.feedforward import feedforward_backward, feedforward_forward
from minitransformer.reference.layernorm import layernorm_backward, layernorm_forward
from minitransformer.reference.multihead_attention import mha_backward, mha_forward


def _sublayers(params, nhead, activation, eps, causal, key_padding_mask):
    """Three functions h -> (output, backward) with backward(dL/doutput) = dL/dh."""
    def attention(h):
        out, cache = mha_forward(h, h, h, params, nhead, causal, key_padding_mask)

        def backward(grad):
            grads = mha_backward(grad, cache)
            return grads["query"] + grads["key"] + grads["value"]
        return out, backward

    def feed_forward(h):
        out, cache = feedforward_forward(h, params["w1"], params["b1"], params["w2"], params["b2"], activation)
        return out, lambda grad: feedforward_backward(grad, cache)[0]

    def norm(index):
        def apply(h):
            out, cache = layernorm_forward(h, params[f"norm{index}_weight"], params[f"norm{index}_bias"], eps)
            return out, lambda grad: layernorm_backward(grad, cache)[0]
        return apply

    return attention, feed_forward, norm(1), norm(2)


def encoder_layer_forward(x, params, nhead, norm_first=False, activation="relu", eps=1e-5, causal=False,
                          key_padding_mask=None, return_backward=False):
    """The layer's output; with ``return_backward`` also a function dL/dy -> dL/dx.

    ``params``: the MHA keys of multihead_attention.py plus w1, b1, w2, b2, norm1_weight, norm1_bias,
    norm2_weight, norm2_bias."""
    attention, feed_forward, norm1, norm2 = _sublayers(params, nhead, activation, eps, causal, key_padding_mask)
    if norm_first:
        normed1, norm1_back = norm1(x)
        attended, attention_back = attention(normed1)
        h = x + attended
        normed2, norm2_back = norm2(h)
        transformed, feed_forward_back = feed_forward(normed2)
        y = h + transformed

        def backward(grad_y):
            grad_h = grad_y + norm2_back(feed_forward_back(grad_y))
            return grad_h + norm1_back(attention_back(grad_h))
    else:
        attended, attention_back = attention(x)
        h, norm1_back = norm1(x + attended)
        transformed, feed_forward_back = feed_forward(h)
        y, norm2_back = norm2(h + transformed)

        def backward(grad_y):
            grad_sum2 = norm2_back(grad_y)
            grad_sum1 = norm1_back(grad_sum2 + feed_forward_back(grad_sum2))
            return grad_sum1 + attention_back(grad_sum1)
    return (y, backward) if return_backward else y

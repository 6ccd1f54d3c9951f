"""Transformer encoder layer (Vaswani et al. 2017, section 3.1), post-norm or pre-norm.

Post-norm (the original, BERT; ``norm_first=False``):
    x = LayerNorm(x + Dropout(SelfAttention(x)));   x = LayerNorm(x + Dropout(FFN(x)))
Pre-norm (GPT-2, Xiong et al. 2020 "On Layer Normalization in the Transformer Architecture";
``norm_first=True``):
    x = x + Dropout(SelfAttention(LayerNorm(x)));   x = x + Dropout(FFN(LayerNorm(x)))

Inputs (B, N, d_model); argument and sub-module names follow ``torch.nn.TransformerEncoderLayer``
(batch_first=True): self_attn, linear1/linear2 (inside feed_forward), norm1, norm2, dropout1, dropout2 —
except the padding mask, ``key_padding_mask`` (B, N) with True = padding, as in every layer down to the
op (torch calls it ``src_key_padding_mask``).
"""

from torch import nn

from minitransformer.nn._checks import check_tensor
from minitransformer.nn.dropout import Dropout
from minitransformer.nn.feedforward import FeedForward
from minitransformer.nn.layernorm import LayerNorm
from minitransformer.nn.multihead_attention import MultiHeadAttention


def load_layer_from_torch(layer, torch_layer):
    """Copy the weights of a ``torch.nn.TransformerEncoderLayer`` / ``TransformerDecoderLayer`` with the same
    sizes into our ``layer`` of the same kind (attention blocks, the two FFN linears, the norms)."""
    layer.self_attn.load_from_torch(torch_layer.self_attn)
    if hasattr(torch_layer, "multihead_attn"):
        layer.multihead_attn.load_from_torch(torch_layer.multihead_attn)
    layer.feed_forward.linear1.load_state_dict(torch_layer.linear1.state_dict())
    layer.feed_forward.linear2.load_state_dict(torch_layer.linear2.state_dict())
    for name in ("norm1", "norm2", "norm3"):
        if hasattr(torch_layer, name):
            getattr(layer, name).load_state_dict(getattr(torch_layer, name).state_dict())


class TransformerEncoderLayer(nn.Module):
    """``dropout`` applies to the residual branches; ``activation_dropout`` (default: ``dropout``, as in
    ``torch.nn.TransformerEncoderLayer``; BERT and GPT-2 have none there) to the FFN hidden layer;
    ``attention_dropout`` (default: ``dropout``) to the attention weights — it must be 0.0 for ``backend="fused"``, which has none. ``rotary``
    adds RoPE to the self-attention. ``activation``: "relu" (torch's default), "gelu" or "gelu_tanh"."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 norm_first=False, bias=True, attention_dropout=None, backend="eager", rotary=False,
                 activation_dropout=None):
        super().__init__()
        attention_dropout = dropout if attention_dropout is None else attention_dropout
        activation_dropout = dropout if activation_dropout is None else activation_dropout
        self.self_attn = MultiHeadAttention(d_model, nhead, dropout=attention_dropout, bias=bias, backend=backend,
                                            rotary=rotary)
        self.feed_forward = FeedForward(d_model, dim_feedforward, activation_dropout, activation, bias=bias,
                                        backend=backend)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, backend=backend)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, backend=backend)
        self.dropout1, self.dropout2 = Dropout(dropout, backend), Dropout(dropout, backend)
        self.norm_first = norm_first

    def load_from_torch(self, torch_layer):
        """Copy a ``torch.nn.TransformerEncoderLayer``'s weights (same sizes) into this layer."""
        load_layer_from_torch(self, torch_layer)

    def _self_attention(self, x, attn_mask, key_padding_mask, is_causal):
        return self.self_attn(x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal)

    def forward(self, src, src_mask=None, key_padding_mask=None, is_causal=False):
        check_tensor("src", src, ndim=3, last_dim=self.self_attn.d_model)
        x = src  # (B, N, d_model)
        if self.norm_first:  # x + Dropout(sublayer(LayerNorm(x)))
            x = self.dropout1.add_to(x, self._self_attention(self.norm1(x), src_mask, key_padding_mask, is_causal))
            return self.dropout2.add_to(x, self.feed_forward(self.norm2(x)))
        x = self.norm1(self.dropout1.add_to(x, self._self_attention(x, src_mask, key_padding_mask, is_causal)))
        return self.norm2(self.dropout2.add_to(x, self.feed_forward(x)))

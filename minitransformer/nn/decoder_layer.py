"""Transformer decoder layer (Vaswani et al. 2017, section 3.1): causal self-attention over the target,
cross-attention from the target to the encoder's output ("memory"), then the feed-forward network,
each a residual sub-layer with LayerNorm after (``norm_first=False``) or before (``norm_first=True``):

    x = x + SelfAttention(x, causal);   x = x + CrossAttention(x, memory);   x = x + FFN(x)

Inputs tgt (B, N_t, d_model), memory (B, N_s, d_model). Names follow ``torch.nn.TransformerDecoderLayer``
(batch_first=True): self_attn, multihead_attn, linear1/linear2 (in feed_forward), norm1-3, dropout1-3.
``tgt_is_causal`` defaults to True here (torch's default is False and expects a tgt_mask instead).
``tgt_key_padding_mask`` and ``memory_key_padding_mask`` are the ``key_padding_mask`` (True = padding) of
the self- and the cross-attention.
"""

from torch import nn

from minitransformer.nn._checks import check_tensor
from minitransformer.nn.dropout import Dropout
from minitransformer.nn.encoder_layer import load_layer_from_torch
from minitransformer.nn.feedforward import FeedForward
from minitransformer.nn.layernorm import LayerNorm
from minitransformer.nn.multihead_attention import MultiHeadAttention


class TransformerDecoderLayer(nn.Module):
    """Arguments as ``TransformerEncoderLayer``'s (``attention_dropout`` covers both attentions)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 norm_first=False, bias=True, attention_dropout=None, backend="eager"):
        super().__init__()
        attention_dropout = dropout if attention_dropout is None else attention_dropout
        self.self_attn = MultiHeadAttention(d_model, nhead, attention_dropout, bias=bias, backend=backend)
        self.multihead_attn = MultiHeadAttention(d_model, nhead, attention_dropout, bias=bias, backend=backend)
        self.feed_forward = FeedForward(d_model, dim_feedforward, dropout, activation, bias=bias, backend=backend)
        self.norm1, self.norm2, self.norm3 = (LayerNorm(d_model, eps=layer_norm_eps, bias=bias, backend=backend)
                                              for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (Dropout(dropout, backend) for _ in range(3))
        self.norm_first = norm_first

    def load_from_torch(self, torch_layer):
        """Copy a ``torch.nn.TransformerDecoderLayer``'s weights (same sizes) into this layer."""
        load_layer_from_torch(self, torch_layer)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=True):
        def self_block(x):
            return self.dropout1(self.self_attn(x, attn_mask=tgt_mask, key_padding_mask=tgt_key_padding_mask,
                                                is_causal=tgt_is_causal))

        def cross_block(x):
            return self.dropout2(self.multihead_attn(x, memory, attn_mask=memory_mask,
                                                     key_padding_mask=memory_key_padding_mask))

        def feed_forward_block(x):
            return self.dropout3(self.feed_forward(x))

        check_tensor("tgt", tgt, ndim=3, last_dim=self.self_attn.d_model)
        check_tensor("memory", memory, ndim=3, last_dim=self.self_attn.d_model)
        x = tgt  # (B, N_t, d_model)
        blocks_and_norms = ((self_block, self.norm1), (cross_block, self.norm2), (feed_forward_block, self.norm3))
        for block, norm in blocks_and_norms:
            x = x + block(norm(x)) if self.norm_first else norm(x + block(x))
        return x
